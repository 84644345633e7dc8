import { useId } from 'react';

/** An on/off control that reads as one ("Auto-renew, on") and works with Space and Enter. */
export function Switch({ label, checked, onChange, busy = false }: { label: string; checked: boolean; onChange: (next: boolean) => void; busy?: boolean }) {
  const id = useId();
  return (
    <span className="switch-row">
      <button
        id={id}
        type="button"
        role="switch"
        aria-checked={checked}
        aria-busy={busy || undefined}
        // Not `disabled` while busy: a disabled button drops the keyboard focus to the page.
        aria-disabled={busy || undefined}
        className="switch"
        onClick={() => {
          if (!busy) onChange(!checked);
        }}
      >
        <span className="switch-thumb" aria-hidden="true" />
      </button>
      <label htmlFor={id}>{label}</label>
    </span>
  );
}
