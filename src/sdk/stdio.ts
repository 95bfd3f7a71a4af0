/**
 * The plugin SDK for stdio plugins (`goplugin-effect/sdk/stdio`): the same handlers, errors and
 * `runMain` options as `goplugin-effect/sdk`, without the REST and gRPC servers, typed contracts or
 * `@effect/platform`. A stdio plugin is started once per call, so what it loads is paid on every call;
 * importing from here keeps that to Effect's runtime and the stdio transport.
 *
 * @since 0.2.0
 * @example
 * #!/usr/bin/env node
 * import { Effect } from "effect"
 * import { CommandFailed, runMain } from "goplugin-effect/sdk/stdio"
 *
 * runMain({
 *   handlers: {
 *     echo: (payload) => Effect.succeed(payload),
 *     fail: (_, { command }) => Effect.fail(new CommandFailed({ command, kind: "internal", detail: "always" }))
 *   }
 * })
 */
export { CommandFailed } from "../SdkErrors.js"
export { hostRefusal } from "./AllowedHosts.js"
export { DEFAULT_MAX_BODY_BYTES } from "./BodyLimit.js"
export {
  type AnswerWithVars,
  type Handler,
  type HandlerContext,
  type Handlers,
  type HandlerWithVars,
  type PipelineContext,
  withVars
} from "./Handler.js"
export { ServeError } from "./ServeError.js"
export { stderrLogger } from "./StderrLogger.js"
export { runStdioMain as runMain, stdioProgram, type StdioMainOptions } from "./StdioMain.js"
export { stdioServer, type StdioServerOptions } from "./StdioServer.js"
