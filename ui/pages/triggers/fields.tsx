// Fields described as data, for forms whose fields depend on a kind (an action's, a counter's): one
// component renders any of them, one function reads any of them back for the schema.
import { numberOrAsSent, type Form } from '../../forms.ts';
import { line, text } from '../nodes/shared.tsx';

/** One input: its schema field, how it is entered, and whether it may be left empty (the schema's default or absence applies). */
export interface FieldSpec {
  name: string;
  label: string;
  /** `json`: an object typed as JSON (a deployment's timings); one that does not parse goes as typed, for the schema to name. */
  input: 'text' | 'textarea' | 'number' | 'email' | 'select' | 'json';
  options?: readonly string[];
  optional?: boolean;
  placeholder?: string;
}

/** A CF app by names: the fields of a cf-process counter and of a cf-scale action. */
export const cfAppFields: FieldSpec[] = [
  { name: 'foundation', label: 'Foundation', input: 'text', optional: true },
  { name: 'org', label: 'Org', input: 'text' },
  { name: 'space', label: 'Space', input: 'text' },
  { name: 'app', label: 'App', input: 'text' },
];

/** A field's value for the schema: empty optional fields are left out, numbers are numbers when they are one (else as typed, for the schema to name). */
export function fieldValue(form: Form, field: FieldSpec, key = field.name): unknown {
  const value = field.input === 'textarea' ? text(form, key) : line(form, key);
  if (value === '' && field.optional) return undefined;
  if (field.input === 'number') return value === '' ? undefined : numberOrAsSent(value);
  if (field.input === 'json' && value !== '') {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}

/** The input of `field`, named `id`, showing `values[field.name]`. */
export function FieldInput({ id, field, values, invalid }: { id: string; field: FieldSpec; values: Form; invalid?: boolean }) {
  const value = text(values, field.name);
  const flag = invalid ? { 'aria-invalid': 'true' } : {};
  if (field.input === 'textarea') {
    return (
      <textarea id={id} name={id} rows={3} spellcheck={false} placeholder={field.placeholder} {...flag}>
        {value}
      </textarea>
    );
  }
  if (field.input === 'select') {
    return (
      <select id={id} name={id} {...flag}>
        {field.options!.map((option) => (
          <option value={option} selected={option === value}>
            {option}
          </option>
        ))}
      </select>
    );
  }
  return <input id={id} name={id} type={field.input === 'number' || field.input === 'json' ? 'text' : field.input} inputmode={field.input === 'number' ? 'decimal' : undefined} value={value} placeholder={field.placeholder} autocomplete="off" {...flag} />;
}
