/**
 * The finishing of `--help` text for terminals and pipes. @effect/cli renders help with ANSI codes
 * always, usage lines with the subcommand's own name only, a type sentence ("A user-defined piece of
 * text.") above every argument's description, and the command list padded to its longest usage; it
 * has no setting for any of these, so its text is finished here.
 *
 * @since 0.2.0
 */

const ansi = /\u001b\[[0-9;]*m/g

/** Sentences @effect/cli adds to every argument and option of a type; the descriptions say more. */
const typeSentences = new Set([
  "A user-defined piece of text.",
  "A true or false value.",
  "An integer.",
  "A floating point number.",
  "A date without a time-zone in the ISO-8601 format, such as 2007-12-03T10:15:30."
])

/** Whether help may use colour: stdout is a terminal and NO_COLOR is unset or empty. */
export const colourAllowed = (): boolean => process.stdout.isTTY === true && (process.env["NO_COLOR"] ?? "") === ""

/**
 * Finishes help text: colour removed unless `colour`, the usage line given the full command name
 * (`$ ping …` → `$ goplugin ping …`), type sentences dropped, and a command list's descriptions put
 * under their usage instead of padded to the widest one.
 */
export const finishHelp = (text: string, options: { readonly colour: boolean; readonly command: string }): string => {
  const plain = options.colour ? text : text.replace(ansi, "")
  const lines = plain.split("\n")
  const out: Array<string> = []
  let inUsage = false
  let inCommands = false
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const bare = line.replace(ansi, "")
    if (typeSentences.has(bare.trim()) && (lines[i + 1] ?? "").trim() === "") {
      i++
      continue
    }
    if (/^[A-Z]+$/.test(bare)) {
      inUsage = bare === "USAGE"
      inCommands = bare === "COMMANDS"
    }
    if (inUsage && bare.startsWith("$ ")) {
      out.push(line.replace(/^\$ ((?:\u001b\[[0-9;]*m)*)([\w-]+)/, (_, codes: string, name: string) =>
        `$ ${codes}${options.command.endsWith(` ${name}`) || options.command === name ? options.command : `${options.command} ${name}`}`))
      continue
    }
    const listed = /^(\s*- \S.*?\S)\s{3,}(\S.*)$/.exec(line)
    if (listed !== undefined && listed !== null) {
      out.push(listed[1]!, `      ${listed[2]!}`)
      continue
    }
    // A listed command's examples belong under its description, not back at the list's margin.
    out.push(inCommands && bare.trim() !== "" && !/^\s*- /.test(bare) ? `    ${line}` : line)
  }
  return out.join("\n")
}
