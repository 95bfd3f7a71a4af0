/**
 * What `goplugin md5` does once its command line is parsed (pluginCommands.ts defines the command; this
 * module is loaded when it runs, see handledBy.ts). A module of its own, apart from `register` and
 * `plugins`, because it needs none of the config's services: only the checksum checker.
 *
 * @since 0.2.0
 */
import { Console, Effect } from "effect"
import * as path from "node:path"
import * as Md5Checker from "../Md5Checker.js"
import { printJson } from "./output.js"

/** `goplugin md5 <file>`: the digest to paste into a config. */
export const md5 = (file: string, json: boolean) =>
  Effect.gen(function*() {
    const absolute = path.resolve(file)
    const md5 = yield* Effect.flatMap(Md5Checker.Md5Checker, (checker) => checker.digest(absolute, "md5"))
    yield* json ? printJson({ file: absolute, md5 }) : Console.log(md5)
  }).pipe(Effect.provide(Md5Checker.layer))
