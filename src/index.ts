/**
 * goplugin-effect: a plugin system of separate executables for Effect applications.
 *
 * @since 0.1.0
 */
export type * as Caller from "./Caller.js"
export * as CallerFactory from "./CallerFactory.js"
export * as Container from "./Container.js"
export * as Discover from "./Discover.js"
export * as Executor from "./Executor.js"
export * as GoPlugin from "./GoPlugin.js"
export * as GrpcCaller from "./GrpcCaller.js"
export * as Host from "./Host.js"
export * as Md5Checker from "./Md5Checker.js"
export * as PluginConfig from "./PluginConfig.js"
export * as PluginError from "./PluginError.js"
export * as ProcessRegistry from "./ProcessRegistry.js"
export * as RestCaller from "./RestCaller.js"
export * as Pipeline from "./Pipeline.js"
export * as PipelineConfig from "./PipelineConfig.js"
export * as StdioCaller from "./StdioCaller.js"
export * as ConfigEditor from "./ConfigEditor.js"
export * as Manifest from "./Manifest.js"
export * as Contract from "./Contract.js"
export * as ContractJsonSchema from "./ContractJsonSchema.js"
export * as TypedPlugin from "./TypedPlugin.js"
