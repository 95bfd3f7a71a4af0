/**
 * Small file-system questions asked in several places.
 *
 * @internal
 */
import { Effect } from "effect"
import * as fs from "node:fs/promises"

/** Whether `file` exists and is a regular file; any failure to look (missing, no permission) is "no". */
export const isFile = (file: string): Effect.Effect<boolean> =>
  Effect.promise(() => fs.stat(file).then((stat) => stat.isFile(), () => false))
