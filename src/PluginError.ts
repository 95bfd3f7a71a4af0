/**
 * Every failure a user of goplugin-effect can meet, as tagged errors carrying the context needed to
 * act on them. Each message says what went wrong, where, and what to do about it; each error keeps the
 * failure it wraps in `cause`. The errors live in one module per domain; this is their one import point.
 *
 * @since 0.1.0
 */
export * from "./ConfigErrors.js"
export * from "./VerifyErrors.js"
export * from "./StartErrors.js"
export * from "./CallErrors.js"
export * from "./SdkErrors.js"
export * from "./PipelineErrors.js"
export * from "./ManifestErrors.js"
