/**
 * The dashboard's forms. Every action is a POST form carrying this browser's CSRF token
 * and the page to come back to; the page script turns a form with `data-confirm` into a
 * confirmation dialog, and without script the server answers it with a confirmation page.
 *
 * @module
 */
import type { PageContext } from "./context.js";
import { CSRF_FIELD } from "./csrf.js";
import { html, type Html } from "./html.js";

/** Where actions are posted, below the base path. */
export type ActionPath = "/actions/jobs" | "/actions/queues" | "/actions/recurring";

/** A form field's value: one, or several of the same name. */
export type FieldValue = string | readonly string[] | undefined;

/** Query parameters of an action's notice (see `layout.ts`). */
export const NOTICE_PARAMS = ["notice", "n", "of", "more", "subject", "jobid"];

/** The page (path and query) to return to after an action, without an earlier action's notice. */
export function returnTo(url: URL): string {
  const search = new URLSearchParams(url.search);
  for (const key of NOTICE_PARAMS) search.delete(key);
  const text = search.toString();
  return `${url.pathname}${text ? `?${text}` : ""}`;
}

/** Hidden inputs for `fields`, the CSRF token and the return path. */
export function hiddenFields(ctx: PageContext, fields: Record<string, FieldValue>): Html {
  const inputs: Html[] = [html`<input type="hidden" name="${CSRF_FIELD}" value="${ctx.csrf}">`];
  if (fields.return === undefined) inputs.push(html`<input type="hidden" name="return" value="${returnTo(ctx.url)}">`);
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    for (const item of typeof value === "string" ? [value] : value) inputs.push(html`<input type="hidden" name="${name}" value="${item}">`);
  }
  return html`${inputs}`;
}

/** A one-button action form. */
export interface ButtonForm {
  path: ActionPath;
  fields: Record<string, FieldValue>;
  label: string;
  /** Asks before acting (a dialog with script, a confirmation page without). */
  confirm?: string;
  /** Styled as destructive. */
  danger?: boolean;
  /** The button's accessible name when the label alone is ambiguous ("Pause" → "Pause queue mailers"). */
  ariaLabel?: string;
}

/** A form with hidden fields and one submit button. */
export function buttonForm(ctx: PageContext, form: ButtonForm): Html {
  return html`<form class="inline" method="post" action="${ctx.base}${form.path}"${form.confirm ? html` data-confirm="${form.confirm}"` : ""}>${hiddenFields(ctx, form.fields)}<button type="submit"${form.danger ? html` class="danger"` : ""}${form.ariaLabel ? html` aria-label="${form.ariaLabel}"` : ""}>${form.label}</button></form>`;
}
