/**
 * The plugin SDK: write handlers (bytes in, bytes out, fail with `CommandFailed`), call `runMain`, and
 * the plugin speaks goplugin's REST, gRPC or stdio wire contract.
 *
 * @since 0.1.0
 */
export { CommandFailed } from "../SdkErrors.js"
export { bearerMatches, hostRefusal, resolveToken, TOKEN_ENV } from "./Access.js"
export { contractHandlers, type HandlersOf, type TypedHandlers } from "./ContractHandlers.js"
export { runContract, type RunContractOptions } from "./ContractMain.js"
export { grpcServer, type GrpcServerOptions } from "./GrpcServer.js"
export {
  type AnswerWithVars,
  dispatch,
  dispatchAnswer,
  type Handler,
  type HandlerContext,
  type Handlers,
  type HandlerWithVars,
  type PipelineContext,
  type Protocol,
  withVars,
  type WireAnswer
} from "./Handler.js"
export { parsePort, pluginProgram, runMain, type RunMainOptions, serve, type ServeOptions } from "./PluginMain.js"
export { DEFAULT_MAX_BODY_BYTES, restServer, type RestServerOptions } from "./RestServer.js"
export { ServeError } from "./ServeError.js"
export { stderrLogger, stderrLoggerLayer } from "./StderrLogger.js"
export { stdioServer, type StdioServerOptions } from "./StdioServer.js"
