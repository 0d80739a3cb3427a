import type { InputHTMLAttributes, ReactNode } from 'react';
import { humanize } from '../format';
import explorer from '../pages/Explorer.module.css';
import { pageStyles } from './Page';

/** A labelled form control: the label above its input, select or textarea (whose id is `id`). */
export function Field({ id, label, children }: { id: string; label: ReactNode; children: ReactNode }) {
  return (
    <div className={pageStyles.field}>
      <label htmlFor={id}>{label}</label>
      {children}
    </div>
  );
}

/** The options of a select: one per value, shown humanized unless `text` says otherwise; `any` first. */
export function Options({
  values,
  text = humanize,
  any,
}: {
  values: readonly string[];
  text?: (value: string) => string;
  /** The text of a first, empty option ("Any"). */
  any?: string;
}) {
  return (
    <>
      {any !== undefined ? <option value="">{any}</option> : null}
      {values.map((v) => (
        <option key={v} value={v}>
          {text(v)}
        </option>
      ))}
    </>
  );
}

/** A checkbox with its label after it. */
export function Check({
  id,
  label,
  ...input
}: { id: string; label: ReactNode } & Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'type'>) {
  return (
    <label className={explorer.check} htmlFor={id}>
      <input id={id} type="checkbox" {...input} />
      {label}
    </label>
  );
}

/** A form's error, under its controls. */
export function FormError({ error }: { error: string | null }) {
  return error ? (
    <p className={pageStyles.formError} role="alert">
      {error}
    </p>
  ) : null;
}

/** A filter bar (a search landmark): its fields, then the Apply and Clear buttons. */
export function FilterForm({
  label,
  onApply,
  applyText = 'Apply filters',
  onClear,
  clearText = 'Clear',
  children,
}: {
  /** The accessible name of the form. */
  label: string;
  onApply(form: FormData): void;
  applyText?: string;
  onClear(): void;
  clearText?: string;
  children: ReactNode;
}) {
  return (
    <form
      className={pageStyles.form}
      role="search"
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault();
        onApply(new FormData(e.currentTarget));
      }}
    >
      {children}
      <button type="submit" className="primary">
        {applyText}
      </button>
      <button type="button" onClick={onClear}>
        {clearText}
      </button>
    </form>
  );
}

/** A labelled input: a Field holding one input of that id. */
export function InputField({
  id,
  label,
  ...input
}: { id: string; label: ReactNode } & Omit<InputHTMLAttributes<HTMLInputElement>, 'id'>) {
  return (
    <Field id={id} label={label}>
      <input id={id} {...input} />
    </Field>
  );
}
