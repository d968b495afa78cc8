// `vipr check PATH`: validates manifests the way `vipr serve --source file:PATH` would read them,
// and prints every problem with its file, document and field. Exit 0 when clean, 3 when not.
import { parseArgs } from "node:util";
import { startFileSource } from "../file/file-source.ts";
import { EXIT_INVALID, EXIT_OK, UsageError } from "./cli-errors.ts";

export const checkHelp = `vipr check: validate Kubernetes manifests for vipr's file source

Usage: vipr check PATH     (a file or a folder of *.yaml, *.yml, *.json)

Prints each problem as FILE: document N: FIELD: what is wrong, then a summary.
Exit codes: 0 no problems, 3 problems found, 2 bad command line.
`;

export async function runCheck(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { help: { type: "boolean", short: "h", default: false } }, allowPositionals: true, strict: true });
  if (values.help) {
    console.log(checkHelp);
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new UsageError("vipr check takes one PATH (a manifest file or folder)");
  const path = positionals[0]!;
  let problems: readonly string[] = [];
  const source = await startFileSource({ path, watch: false, onTable: () => {}, onProblems: (lines) => (problems = lines) }).catch((error: unknown) => {
    throw new UsageError(`${path}: ${(error as Error).message}`);
  });
  const table = source.table;
  for (const line of problems) console.log(line);
  const services = [...table.services.values()];
  const endpoints = services.reduce((n, s) => n + s.endpoints.length, 0);
  console.log(`${path}: ${services.length} services, ${endpoints} endpoints, ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
  return problems.length === 0 ? EXIT_OK : EXIT_INVALID;
}
