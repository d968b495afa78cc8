// `deno serve` entry: the module's default export is vipr's fetch handler, so Deno serves the
// traffic listener itself (deno serve's --port and --host pick it) while vipr loads its table and
// runs its admin listener as `vipr serve` does, from the same flags:
//
//   deno serve -A --port 8080 adapters/deno/serve-entry.ts --source file:examples/simpleservice.yaml
//
// Deno.serve parses with hyper, not llhttp: the README ("Under Deno") lists how its answers differ
// from `vipr serve`'s. The handler gets serveDeno's own checks (Host form, 100 fields, 16 KiB), as
// Deno.serve would otherwise paste a Host such as "simpleservice/x" into the URL it routes by.
import { setUpServe } from "../cli/serve-command.ts";
import { guardedDenoHandler } from "./serve-deno.ts";

const args = (globalThis as unknown as { Deno: { args: string[] } }).Deno.args;
const setup = await setUpServe(args, false);
if (setup === undefined) throw new Error("vipr serve --help was printed; nothing to serve");

export default { fetch: guardedDenoHandler(setup.vipr!.router.app) };
