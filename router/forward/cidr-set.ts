// IP addresses and CIDR ranges (RFC 4632 for IPv4, RFC 4291 section 2.3 for IPv6), for the
// trusted-proxy list (forward-headers.ts). Written here rather than taken from a library: no CIDR
// library is a dependency (is-cidr and cidr-regex in node_modules come with a dev dependency's
// schema validation and only test text, they match no addresses), ipaddr.js (what Express's
// proxy-addr uses) would be a new CommonJS dependency of the runtime-neutral router/ that every
// Node and Deno user imports, and the job is about a hundred lines. IPv6 text goes through the
// WHATWG URL host parser, which every runtime has and which already implements RFC 4291's forms
// (`::`, embedded IPv4) and RFC 5952's canonical output, so only the expansion to bits is ours;
// IPv4 is read as router/table/ip-address.ts reads it.

/** An address as four 32-bit words, most significant first; IPv4 uses the last word only. */
export interface ParsedIp {
  readonly v6: boolean;
  readonly words: readonly [number, number, number, number];
  /** The canonical text: dotted quad, or RFC 5952 (lowercase, longest zero run compressed). */
  readonly text: string;
}

const ipv4Octet = /^(?:0|[1-9][0-9]{0,2})$/;
const ipv6Chars = /^[0-9a-fA-F:.]+$/;

function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    // Leading zeros are refused: "010" is octal to some parsers (as router/table/ip-address.ts).
    if (!ipv4Octet.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

/**
 * Parses an IPv4 or IPv6 literal (no brackets, no zone id, no port). An IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.7`, RFC 4291 section 2.5.5.2), which a dual-stack listener reports for an IPv4
 * client, is read as the IPv4 address it carries, so one rule covers both spellings.
 */
export function parseIp(text: string): ParsedIp | undefined {
  if (!text.includes(":")) {
    const v4 = parseIpv4(text);
    return v4 === undefined ? undefined : { v6: false, words: [0, 0, 0, v4], text };
  }
  if (!ipv6Chars.test(text)) return undefined;
  let host: string;
  try {
    host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  // Canonical form: at most one "::"; expand it to the zero groups it stands for.
  const [head, tail] = host.split("::") as [string, string | undefined];
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  const n = groups.map((g) => parseInt(g, 16));
  const words: [number, number, number, number] = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) words[i] = (n[2 * i]! * 0x10000 + n[2 * i + 1]!) >>> 0;
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
    const v4 = words[3];
    return { v6: false, words: [0, 0, 0, v4], text: `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}` };
  }
  return { v6: true, words, text: host };
}

/** One range: the network's words with host bits cleared, and the prefix length in bits. */
interface Cidr {
  readonly v6: boolean;
  readonly words: readonly number[];
  readonly bits: number;
}

const prefixDigits = /^(?:0|[1-9][0-9]{0,2})$/;

/**
 * `10.0.0.0/8`, `2001:db8::/32`, or a single address (`192.0.2.7`, as /32 or /128), the forms
 * nginx's set_real_ip_from takes. Host bits below the prefix are ignored (`10.1.2.3/8` is
 * 10.0.0.0/8), as nginx and Go's net.ParseCIDR do. An IPv4-mapped IPv6 range of /96 or longer is
 * the IPv4 range it maps. Throws with what was wrong and what was expected.
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const expected = "expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32";
  const ip = parseIp(addressText);
  if (ip === undefined) throw new Error(`${JSON.stringify(text)} is not an IP address or CIDR range: ${expected}`);
  const mappedV4 = !ip.v6 && addressText.includes(":");
  const max = ip.v6 || mappedV4 ? 128 : 32;
  let bits = max;
  if (slash !== -1) {
    const digits = text.slice(slash + 1);
    bits = prefixDigits.test(digits) ? Number(digits) : NaN;
    if (!(bits >= 0 && bits <= max)) throw new Error(`${JSON.stringify(text)}: the prefix length must be a whole number from 0 to ${max}; ${expected}`);
  }
  if (mappedV4) {
    if (bits < 96) throw new Error(`${JSON.stringify(text)}: an IPv4-mapped range needs a prefix of at least 96 bits`);
    bits -= 96;
  }
  const v6 = ip.v6;
  const words = (v6 ? ip.words : [ip.words[3]]).map((word, i) => word & mask(bits - 32 * i));
  return { v6, words: words.map((w) => w >>> 0), bits };
}

/** The mask of a word that has `bits` prefix bits left to cover (none, some, or all 32). */
function mask(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * A set of CIDR ranges, built once and then only read.
 *
 * @example
 * const trusted = new CidrSet(["10.0.0.0/8", "2001:db8::/32"]);
 * trusted.has("10.1.2.3");          // true
 * trusted.has("::ffff:10.1.2.3");   // true (IPv4-mapped)
 * trusted.has("192.0.2.7");         // false
 */
export class CidrSet {
  readonly #v4: Cidr[] = [];
  readonly #v6: Cidr[] = [];

  constructor(ranges: Iterable<string>) {
    for (const range of ranges) {
      const cidr = parseCidr(range);
      (cidr.v6 ? this.#v6 : this.#v4).push(cidr);
    }
  }

  get size(): number {
    return this.#v4.length + this.#v6.length;
  }

  /** True when `address` (an IP literal) is in one of the ranges; false for anything else. */
  has(address: string): boolean {
    const ip = parseIp(address);
    return ip !== undefined && this.hasIp(ip);
  }

  hasIp(ip: ParsedIp): boolean {
    const list = ip.v6 ? this.#v6 : this.#v4;
    for (let r = 0; r < list.length; r++) {
      const cidr = list[r]!;
      let inside = true;
      for (let i = 0; i < cidr.words.length && inside; i++) {
        const word = ip.v6 ? ip.words[i]! : ip.words[3];
        inside = ((word & mask(cidr.bits - 32 * i)) >>> 0) === cidr.words[i];
      }
      if (inside) return true;
    }
    return false;
  }
}

