/**
 * The transport security of one go-plugin connection: plain gRPC over the local socket, or AutoMTLS —
 * each side presents its own one-time certificate and trusts only the other's, with server name
 * `localhost`. The same value secures the main connection and every broker connection, both ways.
 *
 * @since 0.2.0
 */
import type * as grpc from "@grpc/grpc-js"
import type { ClientTls } from "./GrpcSession.js"
import type { CertificateAndKey } from "./SelfSignedCertificate.js"
import { grpc as loadGrpc } from "../internal/grpcModules.js"

/**
 * Credentials for channels this side opens and servers it runs.
 *
 * @since 0.2.0
 */
export interface Security {
  readonly tls: boolean
  readonly channelCredentials: grpc.ChannelCredentials
  readonly serverCredentials: grpc.ServerCredentials
  /** Channel options: with TLS, the name checked in the peer's certificate is `localhost`. */
  readonly channelOptions: grpc.ChannelOptions
  /** The same client side for the lean session ({@link GrpcSession}); absent without TLS. */
  readonly clientTls?: ClientTls | undefined
}

/**
 * A value made on first use, then kept: grpc-js credentials are needed only by grpc-js channels and
 * brokered servers, which most connections never open, and TLS ones cost a secure context each
 * (~1 ms of CPU to parse a key and two certificates).
 */
const onFirstUse = <A>(make: () => A): (() => A) => {
  let made: { readonly value: A } | undefined
  return () => (made ??= { value: make() }).value
}

/** A security whose grpc-js credentials are made on first use. */
const security = (
  fields: Omit<Security, "channelCredentials" | "serverCredentials">,
  channelCredentials: () => grpc.ChannelCredentials,
  serverCredentials: () => grpc.ServerCredentials
): Security => {
  const channel = onFirstUse(channelCredentials)
  const server = onFirstUse(serverCredentials)
  return {
    ...fields,
    get channelCredentials() {
      return channel()
    },
    get serverCredentials() {
      return server()
    }
  }
}

/**
 * No TLS: what go-plugin does without AutoMTLS (the socket is private to the user).
 *
 * @since 0.2.0
 */
export const insecure = (): Security =>
  security(
    { tls: false, channelOptions: {} },
    () => loadGrpc().credentials.createInsecure(),
    () => loadGrpc().ServerCredentials.createInsecure()
  )

/**
 * Mutual TLS: present `own`, trust only `peerPem` (the other side's self-signed certificate) as the
 * root, and require the peer's certificate on servers.
 *
 * @since 0.2.0
 */
export const mutualTls = (own: CertificateAndKey, peerPem: string): Security => {
  const peer = Buffer.from(peerPem)
  const key = Buffer.from(own.privateKeyPem)
  const chain = Buffer.from(own.certificatePem)
  return security(
    {
      tls: true,
      channelOptions: { "grpc.ssl_target_name_override": "localhost", "grpc.default_authority": "localhost" },
      clientTls: { ca: peer, cert: chain, key }
    },
    () => loadGrpc().credentials.createSsl(peer, key, chain),
    () => loadGrpc().ServerCredentials.createSsl(peer, [{ private_key: key, cert_chain: chain }], true)
  )
}
