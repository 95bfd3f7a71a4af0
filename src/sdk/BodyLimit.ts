/**
 * The request size limit every transport applies unless told otherwise. In a module of its own so that
 * the stdio transport can read it without loading the REST server (and `node:http`) at start-up.
 *
 * @since 0.2.0
 */

/**
 * Largest request a server reads unless told otherwise (REST body, gRPC message, stdio request): 64 MiB.
 *
 * @since 0.1.0
 */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
