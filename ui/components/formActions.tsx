// The action row of every form: its submit button, then the refusal or the confirmation of the last save.
import type { Child } from 'hono/jsx';

/** The submit button, then the refusal or the confirmation of the last save. */
export function FormActions({ submit, error, notice, children }: { submit: string; error?: string; notice?: Child; children?: Child }) {
  return (
    <div class="actions">
      <button class="primary" type="submit">
        {submit}
      </button>
      {children}
      {error ? (
        <p class="error-text" role="alert">
          {error}
        </p>
      ) : null}
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
    </div>
  );
}
