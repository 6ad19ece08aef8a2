// EC2 and SSH profiles: their tables and their create-or-update forms on /nodes. The two kinds differ
// only in what `profileKinds` says of each (fields, labels, parsing, schema, table columns, what is
// never echoed back, what is write-only), so one form, one table and one set of handlers serve both.
// A secret field (EC2 user data) is write-only: the page shows whether it is set and its SHA-256,
// never its value; an empty textarea keeps the stored value, its "clear" checkbox removes it.
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { $ZodType } from 'zod/v4/core';
import { parseInput, ServiceError } from '../../../services/errors.ts';
import type { NodesService } from '../../../services/nodes.ts';
import { ec2ProfileSchema, PROFILE_NAME_PATTERN, profileNameSchema, sshProfileSchema, type ProfileInput, type ProfileView, type SecretSummary } from '../../../workflows/nodes.shared.ts';
import { asFormValues, FormActions, line, list, number, optionalLine, optionalText, outOfBand, text, type Form } from './shared.tsx';
import { access } from '../../../server/access.ts';
import { readForm } from '../../forms.ts';

type Model = NodesService['model'];
export type ProfileKindName = 'ec2' | 'ssh';

/** One field of a profile's form: how it shows, and how its text becomes the schema's input. */
interface ProfileField {
  name: string;
  label: string;
  read: (form: Form, name: string) => unknown;
  placeholder?: string;
  required?: boolean;
  /** A number field's bounds. */
  range?: [min: number, max: number];
  textarea?: boolean;
  /** Names, keys and references: no autocompletion or spelling marks. */
  verbatim?: boolean;
  /** Shown after the input, on its line. */
  suffix?: Child;
  /** Shown under the field. */
  hint?: Child;
  /** A value like this is refused by the schema and never sent back into the page (a private key pasted as the reference). */
  neverEcho?: RegExp;
  /** Write-only: never shown nor echoed; the form shows its SecretSummary and a "clear" checkbox. */
  secret?: boolean;
}

/** A secret field's text: empty keeps the stored value (undefined), its checkbox `<name>Clear` clears it (null). */
const secretText = (form: Form, name: string) => (text(form, `${name}Clear`) ? null : (optionalText(form, name) ?? undefined));

/** A profile as stored: its name, then what the kind's schema parses. */
interface NamedProfile {
  name: string;
}

/** What makes one kind of profile: its methods are bivariant, so each kind keeps its own profile types (as shown, as saved). */
interface ProfileKind<P extends NamedProfile = NamedProfile, Input extends NamedProfile = NamedProfile> {
  kind: ProfileKindName;
  /** `EC2`, `SSH`: in headings, buttons and messages. */
  label: string;
  namePlaceholder: string;
  /** Parses what the fields read into the profile (all but its name). */
  schema: $ZodType<Omit<Input, 'name'>>;
  fields: ProfileField[];
  columns: { header: string; cell(profile: P): Child }[];
  /** Above the table, and above the form. */
  intro?: Child;
  formIntro?: Child;
  list(model: Model): Promise<P[]>;
  get(model: Model, name: string): Promise<P | undefined>;
  put(model: Model, profile: Input): Promise<void>;
}

const dash = <span class="muted">–</span>;
const port: [number, number] = [1, 65535];

const ec2: ProfileKind<ProfileView<'ec2'>, ProfileInput<'ec2'>> = {
  kind: 'ec2',
  label: 'EC2',
  namePlaceholder: 'web-us-east',
  schema: ec2ProfileSchema,
  fields: [
    { name: 'region', label: 'Region', read: line, placeholder: 'us-east-1', required: true },
    { name: 'imageId', label: 'Image (AMI)', read: line, placeholder: 'ami-12c6146b', required: true },
    { name: 'instanceType', label: 'Instance type', read: line, placeholder: 't3.micro', required: true },
    { name: 'keyName', label: 'EC2 key pair', read: optionalLine, placeholder: 'optional' },
    { name: 'securityGroups', label: 'Security groups', read: list, placeholder: 'sg-0a1b2c3d, sg-4e5f6a7b', hint: 'Comma-separated, at most 5; none uses the VPC’s default group.' },
    { name: 'subnetId', label: 'Subnet', read: optionalLine, placeholder: 'optional' },
    { name: 'targetGroup', label: 'Target group', read: line, placeholder: 'name or ARN', required: true },
    { name: 'targetPort', label: 'Target port', read: number, range: port, suffix: 'empty: the target group’s port' },
    { name: 'userData', label: 'User data', read: secretText, placeholder: '#cloud-config (optional)', textarea: true, verbatim: true, secret: true },
  ],
  columns: [
    { header: 'Region', cell: (p) => p.region },
    { header: 'Image', cell: (p) => <code>{p.imageId}</code> },
    { header: 'Type', cell: (p) => p.instanceType },
    { header: 'Security groups', cell: (p) => (p.securityGroups.length > 0 ? p.securityGroups.join(', ') : dash) },
    { header: 'Target group', cell: (p) => `${p.targetGroup}${p.targetPort ? `:${p.targetPort}` : ''}` },
    { header: 'User data', cell: (p) => (p.userData.set ? <span title={`sha256 ${p.userData.sha256}`}>set</span> : <span class="muted">not set</span>) },
  ],
  formIntro: 'Saving under an existing name replaces that profile; clusters using it launch their next nodes with it.',
  list: (model) => model.listProfiles('ec2'),
  get: (model, name) => model.getProfile('ec2', name),
  put: (model, profile) => model.putProfile('ec2', profile),
};

const ssh: ProfileKind<ProfileView<'ssh'>, ProfileInput<'ssh'>> = {
  kind: 'ssh',
  label: 'SSH',
  namePlaceholder: 'ubuntu-deploy',
  schema: sshProfileSchema,
  fields: [
    { name: 'user', label: 'User', read: line, placeholder: 'ubuntu', required: true, verbatim: true },
    {
      name: 'keyRef',
      label: 'Key reference',
      read: line,
      placeholder: 'id_ed25519',
      required: true,
      verbatim: true,
      hint: (
        <>
          The file name of a private key in the worker’s <code>SSH_KEYS_DIR</code>. The key itself is never entered here.
        </>
      ),
      neverEcho: /PRIVATE KEY|-----BEGIN/,
    },
    { name: 'port', label: 'Port', read: number, range: port, placeholder: '22' },
  ],
  columns: [
    { header: 'User', cell: (p) => p.user },
    { header: 'Key reference', cell: (p) => <code>{p.keyRef}</code> },
    { header: 'Port', cell: (p) => String(p.port ?? 22) },
  ],
  intro: 'Only the key’s reference is stored: the worker reads the key from its SSH keys directory.',
  list: (model) => model.listProfiles('ssh'),
  get: (model, name) => model.getProfile('ssh', name),
  put: (model, profile) => model.putProfile('ssh', profile),
};

export const profileKinds: Record<ProfileKindName, ProfileKind> = { ec2, ssh };

const formId = (kind: ProfileKind) => `${kind.kind}-profile-form`;
const formPath = (kind: ProfileKind) => `/ui/nodes/profiles/${kind.kind}`;

/** Profile names travel in the API's path, so they are checked (and refused) as it does. */
function profileName(form: Form): string {
  return parseInput(profileNameSchema, line(form, 'name'), 'name');
}

function formToProfile<P extends NamedProfile, Input extends NamedProfile>(kind: ProfileKind<P, Input>, form: Form): Input {
  const name = profileName(form);
  const input = Object.fromEntries(kind.fields.map((field) => [field.name, field.read(form, field.name)]));
  return { name, ...parseInput(kind.schema, input) } as Input;
}

/** What a refused form sends back: what was typed, but never a secret nor a value a field must not echo. */
function echo(kind: ProfileKind, form: Form): Form {
  const scrubbed = kind.fields.filter((field) => field.secret || field.neverEcho?.test(text(form, field.name))).map((field) => [field.name, '']);
  return { ...form, ...Object.fromEntries(scrubbed) };
}

/** A stored profile as the form's values (secret fields left empty) and the summaries of its secrets. */
function formOf(kind: ProfileKind, profile: NamedProfile): { values: Form; secrets: Record<string, SecretSummary> } {
  const record = profile as unknown as Record<string, unknown>;
  const secret = new Set(kind.fields.filter((field) => field.secret).map((field) => field.name));
  const shown = Object.fromEntries(Object.entries(record).filter(([key]) => !secret.has(key)));
  return { values: asFormValues(shown), secrets: Object.fromEntries([...secret].map((name) => [name, record[name] as SecretSummary])) };
}

/** A write-only field's stored state, and the checkbox that clears it. */
function SecretState({ field, id, summary }: { field: ProfileField; id: string; summary?: SecretSummary }) {
  return (
    <small class="hint muted" data-secret={field.name}>
      {summary?.set ? (
        <>
          Set (sha256 <code>{summary.sha256}</code>, {summary.bytes} bytes); write-only: leave empty to keep it.{' '}
          <label>
            <input type="checkbox" id={`${id}-clear`} name={`${field.name}Clear`} value="1" /> clear
          </label>
        </>
      ) : (
        'Not set. Write-only: once saved it is never shown again, only its SHA-256.'
      )}
    </small>
  );
}

function FieldInput({ field, id, value }: { field: ProfileField; id: string; value: string }) {
  const verbatim = field.verbatim ? { autocomplete: 'off', spellcheck: false } : {};
  if (field.textarea) {
    return (
      <textarea id={id} name={field.name} rows={3} placeholder={field.placeholder} {...verbatim}>
        {value}
      </textarea>
    );
  }
  const numeric = field.range ? { type: 'number', min: String(field.range[0]), max: String(field.range[1]) } : {};
  return <input id={id} name={field.name} value={value} placeholder={field.placeholder} required={field.required} {...numeric} {...verbatim} />;
}

interface ProfileFormProps {
  kind: ProfileKind;
  values?: Form;
  /** The stored profile's secrets, summarised (editing one). */
  secrets?: Record<string, SecretSummary>;
  error?: string;
  notice?: Child;
}

/** Saved under a new name it is a new profile, under an existing one it replaces that one (PUT). */
export function ProfileForm({ kind, values = {}, secrets = {}, error, notice }: ProfileFormProps) {
  const id = formId(kind);
  const nameField: ProfileField = { name: 'name', label: 'Name', read: line, placeholder: kind.namePlaceholder, required: true, verbatim: true };
  return (
    <form id={id} class="stacked wide" hx-post={formPath(kind)} hx-target="this" hx-swap="outerHTML">
      {[nameField, ...kind.fields].map((field) => {
        const input = <FieldInput field={field} id={`${kind.kind}-${field.name}`} value={field.secret ? '' : text(values, field.name)} />;
        return (
          <>
            <label for={`${kind.kind}-${field.name}`}>{field.label}</label>
            {field.suffix ? (
              <span>
                {input} <span class="muted">{field.suffix}</span>
              </span>
            ) : (
              input
            )}
            {field.hint ? <small class="hint muted">{field.hint}</small> : null}
            {field.secret ? <SecretState field={field} id={`${kind.kind}-${field.name}`} summary={secrets[field.name]} /> : null}
          </>
        );
      })}
      <FormActions submit={`Save ${kind.label} profile`} error={error} notice={notice}>
        {/* An empty form, to start a new profile after editing one. */}
        <button type="button" class="plain" hx-get={`${formPath(kind)}/form`} hx-target={`#${id}`} hx-swap="outerHTML">
          Clear
        </button>
      </FormActions>
    </form>
  );
}

function ProfilesTable({ kind, profiles, oob }: { kind: ProfileKind; profiles: NamedProfile[]; oob?: boolean }) {
  return (
    <div id={`${kind.kind}-profiles`} {...outOfBand(oob)}>
      {profiles.length === 0 ? (
        <p class="muted">None yet: add one below.</p>
      ) : (
        <table class={`${kind.kind}-profiles`}>
          <thead>
            <tr>
              <th>Name</th>
              {kind.columns.map((column) => (
                <th>{column.header}</th>
              ))}
              <th></th>
            </tr>
          </thead>
          <tbody>
            {profiles.map((profile) => (
              <tr data-profile={profile.name}>
                <td>{profile.name}</td>
                {kind.columns.map((column) => (
                  <td>{column.cell(profile)}</td>
                ))}
                <td class="row-actions">
                  <button type="button" class="plain" hx-get={`${formPath(kind)}/form?name=${encodeURIComponent(profile.name)}`} hx-target={`#${formId(kind)}`} hx-swap="outerHTML show:top">
                    Edit
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** A kind's section of /nodes: its profiles, then the form to create or update one. */
export function ProfilesSection({ kind, profiles }: { kind: ProfileKind; profiles: NamedProfile[] }) {
  return (
    <section>
      <h2>{kind.label} profiles</h2>
      {kind.intro ? <p class="muted">{kind.intro}</p> : null}
      <ProfilesTable kind={kind} profiles={profiles} />
      <h3>Create or update an {kind.label} profile</h3>
      {kind.formIntro ? <p class="muted">{kind.formIntro}</p> : null}
      <ProfileForm kind={kind} />
    </section>
  );
}

export function ProfileOptions({ names, selected }: { names: string[]; selected: string }) {
  return (
    <>
      {names.map((name) => (
        <option value={name} selected={name === selected}>
          {name}
        </option>
      ))}
    </>
  );
}

/** The event a saved profile sends (HX-Trigger): the cluster form's selects reload their options, keeping their choice. */
const PROFILES_CHANGED = 'fleet-profiles-changed';

export const profileOptionsReload = (kind: ProfileKindName) => ({
  'hx-get': `/ui/partials/nodes/profile-options/${kind}`,
  'hx-trigger': `${PROFILES_CHANGED} from:body`,
  // Its own options, not the form's target it would inherit.
  'hx-target': 'this',
  'hx-swap': 'innerHTML',
});

export function profilesRoutes(model: Model) {
  const kindOf = (name: string) => profileKinds[name as ProfileKindName];
  return new Hono()
    .get('/ui/nodes/profiles/:kind{ec2|ssh}/form', access('viewer'), async (c) => {
      const kind = kindOf(c.req.param('kind'));
      const name = c.req.query('name');
      if (!name) return c.html(<ProfileForm kind={kind} />);
      const profile = await kind.get(model, name);
      if (!profile) return c.html(<ProfileForm kind={kind} values={{ name }} error={`No ${kind.label} profile named ${JSON.stringify(name)}.`} />);
      return c.html(<ProfileForm kind={kind} {...formOf(kind, profile)} />);
    })
    .post('/ui/nodes/profiles/:kind{ec2|ssh}', access('admin'), async (c) => {
      const kind = kindOf(c.req.param('kind'));
      const form = await readForm(c);
      try {
        const profile = formToProfile(kind, form);
        const existed = Boolean(await kind.get(model, profile.name));
        await kind.put(model, profile);
        c.header('HX-Trigger', PROFILES_CHANGED);
        return c.html(
          <>
            <ProfileForm kind={kind} notice={`${existed ? 'Updated' : 'Created'} ${kind.label} profile ${profile.name}.`} />
            <ProfilesTable kind={kind} profiles={await kind.list(model)} oob />
          </>,
        );
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        const name = line(form, 'name');
        const stored = PROFILE_NAME_PATTERN.test(name) ? await kind.get(model, name) : undefined;
        return c.html(<ProfileForm kind={kind} values={echo(kind, form)} secrets={stored ? formOf(kind, stored).secrets : {}} error={error.message} />);
      }
    })
    .get('/ui/partials/nodes/profile-options/:kind{ec2|ssh}', access('viewer'), async (c) => {
      const kind = c.req.param('kind') as ProfileKindName;
      const profiles = await profileKinds[kind].list(model);
      return c.html(<ProfileOptions names={profiles.map((p) => p.name)} selected={c.req.query(`${kind}Profile`) ?? ''} />);
    });
}
