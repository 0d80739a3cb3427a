import { useState } from 'react';

interface Props {
  /** Visible label, e.g. "Revoke". */
  label: string;
  /** Accessible name naming the object, e.g. "Revoke key ci-sensor". */
  ariaLabel: string;
  confirmLabel?: string;
  onConfirm(): Promise<void> | void;
  danger?: boolean;
}

/** A button that asks "Sure?" in place (no window.confirm: keyboard and screen-reader friendly). */
export function ConfirmButton({ label, ariaLabel, confirmLabel, onConfirm, danger }: Props) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!asking)
    return (
      <button
        type="button"
        className={danger ? 'danger' : undefined}
        aria-label={ariaLabel}
        onClick={() => setAsking(true)}
      >
        {label}
      </button>
    );
  return (
    <span role="group" aria-label={`Confirm: ${ariaLabel}`}>
      <button
        type="button"
        className={danger ? 'danger' : 'primary'}
        disabled={busy}
        autoFocus
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {confirmLabel ?? `Yes, ${label.toLowerCase()}`}
      </button>{' '}
      <button type="button" disabled={busy} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
