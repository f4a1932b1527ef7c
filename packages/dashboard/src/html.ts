/**
 * HTML built from tagged templates, escaped by default: every `${value}` in an `html`
 * template is escaped unless it is itself `Html` (another template's output, or `raw`).
 * Arrays are joined; `null`, `undefined` and `false` render nothing. Nothing reaches a page
 * by string concatenation, so a job name, a queue name, an argument or an error message
 * can never open a tag or an attribute.
 *
 * @module
 */

/** Markup that is safe to insert as it is. */
export class Html {
  /** @param text - markup, already escaped where it must be. */
  constructor(readonly text: string) {}

  /** The markup. */
  toString(): string {
    return this.text;
  }
}

/** What an `html` template may interpolate. */
export type HtmlValue = Html | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join("");
  return escapeHtml(String(value));
}

/**
 * Builds markup, escaping every interpolated value that is not `Html`.
 * @example
 * html`<td>${job.queue}</td>` // a queue named "<b>" shows as text
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let text = strings[0]!;
  for (let index = 0; index < values.length; index++) text += render(values[index]!) + strings[index + 1]!;
  return new Html(text);
}

/** Markup the caller vouches for (server-built SVG, constant strings). */
export function raw(text: string): Html {
  return new Html(text);
}

/** A query string from the non-empty values of `params`, with `?`, or `""` when none. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
}
