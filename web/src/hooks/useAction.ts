import { useState } from 'react';
import { asApiError, type ApiError } from '../api/client';
import { errorText } from '../format';

export interface Message {
  ok: boolean;
  text: string;
}

/**
 * Runs one user action at a time: `busy` while it runs, then `message` says what it did (the text `f`
 * returns) or why it failed. `onDone` follows a success (e.g. a reload).
 */
export function useAction(onDone?: () => void) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<Message | null>(null);
  const run = async (f: () => Promise<string>) => {
    setBusy(true);
    try {
      setMessage({ ok: true, text: await f() });
      onDone?.();
    } catch (e) {
      setMessage({ ok: false, text: errorText(asApiError(e)) });
    } finally {
      setBusy(false);
    }
  };
  return { busy, message, setMessage, run };
}

/**
 * A form's submission: `busy` while `f` runs; its failure becomes `error` (as `describe` puts it), a success
 * clears it.
 */
export function useSubmit(describe: (e: ApiError) => string = errorText) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (f: () => Promise<void>) => {
    setBusy(true);
    try {
      await f();
      setError(null);
    } catch (e) {
      setError(describe(asApiError(e)));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, submit };
}
