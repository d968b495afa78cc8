#!/usr/bin/env node
// The vipr command line: `vipr serve`, `vipr demo`, `vipr explain`, `vipr check`. Runs on Node 24
// (TypeScript types stripped natively) and on Deno 2 (`deno run -A adapters/cli/vipr.ts ...`).
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "./cli-errors.ts";

const usage = `vipr: a layer-7 service router for Kubernetes, on Node and Deno

Usage: vipr <command> [options]

Commands:
  serve     route requests addressed to service names (from manifests or the Kubernetes API)
  demo      the services tutorial on this machine: local pods, scaling, live traffic split
  explain   which endpoint a host (and hash key) would reach, and why
  check     validate manifests, with the file, document and field of every problem

Run vipr <command> --help for a command's options.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "serve":
      return (await import("./serve-command.ts")).runServe(args);
    case "demo":
      return (await import("./demo-command.ts")).runDemo(args);
    case "explain":
      return (await import("./explain-command.ts")).runExplain(args);
    case "check":
      return (await import("./check-command.ts")).runCheck(args);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(usage);
      return command === undefined ? EXIT_USAGE : EXIT_OK;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}; expected serve, demo, explain or check`);
  }
}

const commands = new Set(["serve", "demo", "explain", "check"]);

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // node:util parseArgs errors ("Unknown option '--x'") do not say where the options are listed.
  const parseError = (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") === true;
  const command = process.argv[2] ?? "";
  const hint = parseError && commands.has(command) ? `; see vipr ${command} --help` : "";
  console.error(`vipr: ${(error as Error).message}${hint}`);
  process.exitCode = error instanceof UsageError || parseError ? EXIT_USAGE : EXIT_FAILURE;
}
// Exit once the command is done even if a library left a timer or socket behind.
if (process.exitCode !== undefined) setTimeout(() => process.exit(), 100).unref();
