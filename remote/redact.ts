/**
 * Redis URLs carry passwords. Nothing we print, throw or report may carry one: URLs are
 * shown with the password replaced, and any text that passes through a Redactor (driver
 * errors, BullMQ failures, log lines) has every known secret replaced too.
 */
const MASK = '***';

/** The URL with its password (if any) replaced by `***`. Never throws. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = MASK;
    return u.href.replace(/\/$/, '');
  } catch {
    // Not a URL we can parse: hide whatever sits between '//' and '@'.
    return url.replace(/\/\/[^@/]*@/, `//${MASK}@`);
  }
}

/** Replaces every occurrence of the given secrets (raw and URL-encoded) in text. */
export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: readonly (string | undefined)[]) {
    const all = new Set<string>();
    for (const s of secrets) {
      if (s === undefined || s.length === 0) continue;
      all.add(s);
      all.add(encodeURIComponent(s));
      try {
        all.add(decodeURIComponent(s));
      } catch {
        // Not percent-encoded: the raw form is already there.
      }
    }
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = [...all].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  }

  /** A redactor for the password in a Redis URL. */
  static forUrl(url: string): Redactor {
    // The password as written in the URL, as the URL parser normalises it, and decoded.
    const raw = /^[a-z]+:\/\/[^:@/]*:([^@/]*)@/i.exec(url)?.[1];
    let parsed: string | undefined;
    try {
      parsed = new URL(url).password;
    } catch {
      parsed = undefined;
    }
    return new Redactor([raw, parsed]);
  }

  text(s: string): string {
    let out = s;
    for (const secret of this.secrets) out = out.split(secret).join(MASK);
    return out;
  }

  /** An Error's message (or any thrown value), redacted. */
  error(err: unknown): string {
    const msg = err instanceof Error ? err.message : String(err);
    return this.text(msg);
  }
}
