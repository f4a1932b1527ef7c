/**
 * Reading PostgreSQL statement text the way the server does, to find its `$n` parameters
 * outside string literals, quoted identifiers, dollar-quoted bodies and comments. Knex and
 * Drizzle take their parameters another way (`?`, interleaved chunks), so the helpers that
 * speak to them rewrite Errand's `$n` statements with this.
 *
 * @module
 */

/** A piece of statement text: SQL to keep as is, or a reference to parameter `$index`. */
export type SqlPiece = { sql: string } | { param: number };

/**
 * Splits `text` into SQL pieces and `$n` references (n counted from 1). A `$` that starts a
 * dollar quote (`$$…$$`, `$tag$…$tag$`) or sits in a literal, a quoted identifier or a
 * comment is SQL.
 * @throws Error naming the position when a quote or comment is not closed.
 */
export function splitParameters(text: string): SqlPiece[] {
  const pieces: SqlPiece[] = [];
  let start = 0;
  let i = 0;
  const skipTo = (closing: string, from: number, what: string): number => {
    const end = text.indexOf(closing, from);
    if (end < 0) throw new Error(`unterminated ${what} at position ${from} of the statement`);
    return end + closing.length;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'") {
      if (/[eE]/.test(text[i - 1] ?? "") && !/[\w$]/.test(text[i - 2] ?? " ")) {
        // E'…': a backslash escapes the next character, a quote included.
        let j = i + 1;
        while (j < text.length && text[j] !== "'") j += text[j] === "\\" ? 2 : 1;
        if (j >= text.length) throw new Error(`unterminated string literal at position ${i + 1} of the statement`);
        i = j + 1;
        continue;
      }
      // '' inside a literal is an escaped quote: skipping to the next ' and going on reads it as two literals, the same pieces.
      i = skipTo("'", i + 1, "string literal");
    } else if (c === '"') {
      i = skipTo('"', i + 1, "quoted identifier");
    } else if (c === "-" && text[i + 1] === "-") {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end + 1;
    } else if (c === "/" && text[i + 1] === "*") {
      i = skipTo("*/", i + 2, "comment");
    } else if (c === "$") {
      const number = /^\$(\d+)/.exec(text.slice(i, i + 12));
      if (number && !/[\w$]/.test(text[i - 1] ?? " ")) {
        if (i > start) pieces.push({ sql: text.slice(start, i) });
        pieces.push({ param: Number(number[1]) });
        i += number[0].length;
        start = i;
        continue;
      }
      const tag = /^\$([A-Za-z_][\w]*)?\$/.exec(text.slice(i, i + 66));
      if (tag && !/[\w$]/.test(text[i - 1] ?? " ")) i = skipTo(tag[0], i + tag[0].length, "dollar-quoted string");
      else i++;
    } else {
      i++;
    }
  }
  if (start < text.length) pieces.push({ sql: text.slice(start) });
  return pieces;
}

/** The value of parameter `$index` (from 1), or an error naming the statement's problem. */
export function parameter(values: readonly unknown[], index: number): unknown {
  if (index < 1 || index > values.length) {
    throw new Error(`the statement refers to $${index} but ${values.length} value${values.length === 1 ? " was" : "s were"} given`);
  }
  return values[index - 1];
}
