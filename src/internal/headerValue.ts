/**
 * The one rule for a header value this project sends, over HTTP/1.1 (REST) and as HTTP/2 metadata
 * (gRPC): what node:http accepts, so no CR, LF or NUL (a value must not end its line or its block)
 * and nothing above 0xff (a header is latin1).
 *
 * @internal
 */

/** Whether `value` may be sent as a header value as it is. */
export const validHeaderValue = (value: string): boolean => !/[^\t\x20-\x7e\x80-\xff]/.test(value)
