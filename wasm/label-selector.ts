// Kubernetes label selectors: the types, the string form as k8s.io/apimachinery/pkg/labels/
// selector.go parses it (`app=web,tier!=db,env in (a,b),env notin (c),canary,!legacy`), and the
// metav1.LabelSelector JSON form (`matchLabels`, `matchExpressions`) as
// k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go LabelSelectorAsSelector converts it. Keys and
// values are validated as k8s.io/apimachinery/pkg/util/validation/validation.go does
// (IsQualifiedName, IsValidLabelValue). Pure TS: matching happens on the interned bitsets
// (label-interning.ts), not here.

/** The set-based operators of a LabelSelectorRequirement; `=`/`==` are In and `!=` is NotIn. */
export type Operator = "In" | "NotIn" | "Exists" | "DoesNotExist";

/**
 * One requirement. Semantics (labels/selector.go, Requirement.Matches): In needs the key present
 * with one of `values`; NotIn matches when the key is absent or its value is none of `values`;
 * Exists and DoesNotExist test the key alone and have no values.
 */
export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

/**
 * Requirements that must all hold (AND). Empty matches everything, Kubernetes' rule for an empty
 * LabelSelector ("An empty label selector matches all objects", k8s.io/apimachinery/pkg/apis/
 * meta/v1 types.go, LabelSelector); a null selector (match nothing) is the caller's concern.
 */
export type Selector = readonly Requirement[];

/** A string-form selector that did not parse; `position` is a 0-based index into the text. */
export class SelectorParseError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.name = "SelectorParseError";
    this.position = position;
  }
}

/** A metav1.LabelSelector that is invalid; `field` names it, e.g. `matchExpressions[1].values`. */
export class LabelSelectorError extends Error {
  readonly field: string;
  constructor(message: string, field: string) {
    super(message);
    this.name = "LabelSelectorError";
    this.field = field;
  }
}

// validation.go: qualifiedNameFmt, qualifiedNameMaxLength, labelValueFmt, LabelValueMaxLength,
// dns1123SubdomainFmt, DNS1123SubdomainMaxLength. Messages are validation.go's own.
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_CHARS = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** Why `key` is not a valid label key (validation.IsQualifiedName), or undefined when it is. */
export function labelKeyError(key: string): string | undefined {
  const parts = key.split("/");
  if (parts.length > 2) return `a qualified name ${NAME_CHARS}, with an optional DNS subdomain prefix and '/'`;
  const name = parts[parts.length - 1] ?? "";
  if (parts.length === 2) {
    const prefix = parts[0] ?? "";
    if (prefix.length === 0) return "prefix part must be non-empty";
    if (prefix.length > 253) return "prefix part must be no more than 253 characters";
    if (!DNS1123_SUBDOMAIN.test(prefix)) {
      return (
        "prefix part must be a lowercase RFC 1123 subdomain: lower case alphanumeric characters, '-' or '.', " +
        "starting and ending with an alphanumeric character"
      );
    }
  }
  if (name.length === 0) return "name part must be non-empty";
  if (name.length > 63) return "name part must be no more than 63 characters";
  if (!QUALIFIED_NAME.test(name)) return `name part ${NAME_CHARS}`;
  return undefined;
}

/** Why `value` is not a valid label value (validation.IsValidLabelValue), or undefined. */
export function labelValueError(value: string): string | undefined {
  if (value.length > 63) return "must be no more than 63 characters";
  if (!LABEL_VALUE.test(value)) return `must be empty or ${NAME_CHARS.slice("must ".length)}`;
  return undefined;
}

// ---- The string form -------------------------------------------------------------------------

// The lexer of selector.go: whitespace is ' ', '\t', '\r', '\n' (isWhitespace); the special
// symbols are = ! ( ) , > < (isSpecialSymbol) and scan greedily into the longest operator (`==`,
// `!=`); everything else runs up to the next whitespace or symbol and is an identifier. `in` and
// `notin` are keywords only where an operator is expected (Parser.lookahead treats them as
// identifiers in the Values context), so `in=x` has the key `in`.
type TokenKind = "ident" | "=" | "==" | "!=" | "!" | "(" | ")" | "," | ">" | "<" | "end";

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly position: number;
}

function isWhitespace(c: string): boolean {
  return c === " " || c === "\t" || c === "\r" || c === "\n";
}

function isSpecial(c: string): boolean {
  return c === "=" || c === "!" || c === "(" || c === ")" || c === "," || c === ">" || c === "<";
}

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (isWhitespace(c)) {
      i++;
    } else if (isSpecial(c)) {
      const two = text.slice(i, i + 2);
      const kind: TokenKind = two === "==" || two === "!=" ? two : (c as TokenKind);
      tokens.push({ kind, text: kind, position: i });
      i += kind.length;
    } else {
      const start = i;
      while (i < text.length && !isWhitespace(text.charAt(i)) && !isSpecial(text.charAt(i))) i++;
      tokens.push({ kind: "ident", text: text.slice(start, i), position: start });
    }
  }
  tokens.push({ kind: "end", text: "", position: text.length });
  return tokens;
}

/** Sorted and deduplicated, as the sets.String that selector.go collects values into. */
function valueSet(values: readonly string[]): readonly string[] {
  return [...new Set(values)].sort();
}

/** A recursive-descent parser with the structure of selector.go's Parser, one token of lookahead. */
class Parser {
  readonly #text: string;
  readonly #tokens: Token[];
  #at = 0;

  constructor(text: string) {
    this.#text = text;
    this.#tokens = lex(text);
  }

  #peek(): Token {
    // lex always ends with an "end" token and #next never moves past it.
    return this.#tokens[this.#at] as Token;
  }

  #next(): Token {
    const token = this.#peek();
    if (token.kind !== "end") this.#at++;
    return token;
  }

  #fail(what: string, position: number, detail: string): never {
    throw new SelectorParseError(`label selector: ${what} at position ${position} in ${JSON.stringify(this.#text)}; ${detail}`, position);
  }

  #unexpected(token: Token, expected: string): never {
    const what = token.kind === "end" ? "unexpected end of string" : `unexpected ${JSON.stringify(token.text)}`;
    return this.#fail(what, token.position, `expected ${expected}`);
  }

  parse(): Selector {
    const requirements: Requirement[] = [];
    if (this.#peek().kind === "end") return requirements;
    for (;;) {
      const start = this.#peek();
      if (start.kind !== "ident" && start.kind !== "!") this.#unexpected(start, 'a label key or "!"');
      requirements.push(this.#requirement());
      const after = this.#next();
      if (after.kind === "end") return requirements;
      if (after.kind !== ",") this.#unexpected(after, '"," or end of string');
    }
  }

  #requirement(): Requirement {
    let token = this.#next();
    const negated = token.kind === "!";
    if (negated) token = this.#next();
    if (token.kind !== "ident") this.#unexpected(token, "a label key");
    const key = token.text;
    const keyError = labelKeyError(key);
    if (keyError !== undefined) this.#fail(`invalid key ${JSON.stringify(key)}`, token.position, keyError);
    // `!key` is DoesNotExist whatever follows (selector.go returns at once; `!a=b` then fails on
    // the "="); a bare key before "," or the end is Exists.
    if (negated) return { key, operator: "DoesNotExist", values: [] };
    const lookahead = this.#peek().kind;
    if (lookahead === "end" || lookahead === ",") return { key, operator: "Exists", values: [] };

    const op = this.#next();
    switch (op.kind) {
      case "=":
      case "==":
        return { key, operator: "In", values: [this.#exactValue()] };
      case "!=":
        return { key, operator: "NotIn", values: [this.#exactValue()] };
      case ">":
      case "<":
        // Gt and Lt parse in selector.go but belong to node affinity, not to Service selectors.
        return this.#fail(
          `unsupported operator ${JSON.stringify(op.text)}`,
          op.position,
          "expected one of =, ==, !=, in, notin (Gt and Lt are not supported)",
        );
      case "ident":
        if (op.text === "in") return { key, operator: "In", values: this.#valueList() };
        if (op.text === "notin") return { key, operator: "NotIn", values: this.#valueList() };
        break;
      default:
        break;
    }
    return this.#unexpected(op, "one of =, ==, !=, in, notin");
  }

  #value(token: Token): string {
    const error = labelValueError(token.text);
    if (error !== undefined) this.#fail(`invalid value ${JSON.stringify(token.text)}`, token.position, error);
    return token.text;
  }

  /** selector.go parseExactValue: `a=` (nothing before "," or the end) is the empty value. */
  #exactValue(): string {
    const lookahead = this.#peek().kind;
    if (lookahead === "end" || lookahead === ",") return "";
    const token = this.#next();
    if (token.kind !== "ident") this.#unexpected(token, "a value");
    return this.#value(token);
  }

  /**
   * selector.go parseValues and parseIdentifiersList. As there, an empty slot is the empty value:
   * `()` is {""}, and `(,a)`, `(a,)`, `(a,,b)` each add "" to the listed values.
   */
  #valueList(): readonly string[] {
    const open = this.#next();
    if (open.kind !== "(") this.#unexpected(open, '"("');
    const first = this.#peek();
    if (first.kind === ")") {
      this.#next();
      return [""];
    }
    if (first.kind !== "ident" && first.kind !== ",") this.#unexpected(first, 'a value, "," or ")"');
    const values: string[] = [];
    for (;;) {
      const token = this.#next();
      if (token.kind === "ident") {
        values.push(this.#value(token));
        const lookahead = this.#peek();
        if (lookahead.kind === ")") break;
        if (lookahead.kind !== ",") this.#unexpected(lookahead, '"," or ")"');
      } else if (token.kind === ",") {
        if (values.length === 0) values.push("");
        const lookahead = this.#peek().kind;
        if (lookahead === ")") {
          values.push("");
          break;
        }
        if (lookahead === ",") {
          this.#next();
          values.push("");
        }
      } else {
        this.#unexpected(token, 'a value, "," or ")"');
      }
    }
    this.#next(); // the ")" seen just above
    return valueSet(values);
  }
}

/**
 * Parses the string form of a label selector, e.g. `app=web,tier!=db,env in (a,b),!legacy`.
 * `=` and `==` become In with one value, `!=` becomes NotIn with one value; values are sorted and
 * deduplicated; the empty (or all-whitespace) string is the empty selector, which matches all.
 *
 * @example
 * parseSelector("app=web,!canary");
 * // [{ key: "app", operator: "In", values: ["web"] }, { key: "canary", operator: "DoesNotExist", values: [] }]
 * @throws SelectorParseError naming the offending token and its position.
 */
export function parseSelector(text: string): Selector {
  return new Parser(text).parse();
}

// ---- The metav1.LabelSelector form ----------------------------------------------------------

/** metav1.LabelSelectorRequirement as it appears in JSON. */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[] | undefined;
}

/** metav1.LabelSelector as it appears in JSON (a Service's selector is matchLabels alone). */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>> | undefined;
  readonly matchExpressions?: readonly LabelSelectorRequirement[] | undefined;
}

function checkKey(key: string, field: string): void {
  const error = labelKeyError(key);
  if (error !== undefined) throw new LabelSelectorError(`label selector: ${field}: invalid key ${JSON.stringify(key)}: ${error}`, field);
}

function checkValue(value: string, field: string): void {
  const error = labelValueError(value);
  if (error === undefined) return;
  throw new LabelSelectorError(`label selector: ${field}: invalid value ${JSON.stringify(value)}: ${error}`, field);
}

/**
 * Converts a metav1.LabelSelector as LabelSelectorAsSelector does: each matchLabels entry is In
 * with one value, each matchExpressions entry keeps its operator; all AND together. Checks what
 * apis/meta/v1/validation ValidateLabelSelectorRequirement checks: a known operator, values for
 * In/NotIn, none for Exists/DoesNotExist, valid keys and values.
 *
 * @example selectorFromLabelSelector({ matchLabels: { app: "web" } }) // [{ key: "app", operator: "In", values: ["web"] }]
 * @throws LabelSelectorError naming the field, e.g. `matchExpressions[1].values`.
 */
export function selectorFromLabelSelector(selector: LabelSelector): Selector {
  const requirements: Requirement[] = [];
  const matchLabels = selector.matchLabels ?? {};
  for (const key of Object.keys(matchLabels)) {
    const field = `matchLabels[${JSON.stringify(key)}]`;
    const value = matchLabels[key] ?? "";
    checkKey(key, field);
    checkValue(value, field);
    requirements.push({ key, operator: "In", values: [value] });
  }
  const expressions = selector.matchExpressions ?? [];
  for (let i = 0; i < expressions.length; i++) {
    const field = `matchExpressions[${i}]`;
    const { key, operator, values = [] } = expressions[i] as LabelSelectorRequirement;
    checkKey(key, `${field}.key`);
    if (operator === "In" || operator === "NotIn") {
      if (values.length === 0) {
        throw new LabelSelectorError(`label selector: ${field}.values: must be non-empty when operator is ${operator}`, `${field}.values`);
      }
      values.forEach((value, j) => checkValue(value, `${field}.values[${j}]`));
      requirements.push({ key, operator, values: valueSet(values) });
    } else if (operator === "Exists" || operator === "DoesNotExist") {
      if (values.length !== 0) {
        throw new LabelSelectorError(`label selector: ${field}.values: must be empty when operator is ${operator}`, `${field}.values`);
      }
      requirements.push({ key, operator, values: [] });
    } else {
      throw new LabelSelectorError(
        `label selector: ${field}.operator: unknown operator ${JSON.stringify(operator)}; expected In, NotIn, Exists or DoesNotExist`,
        `${field}.operator`,
      );
    }
  }
  return requirements;
}
