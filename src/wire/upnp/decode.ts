/**
 * A small, bounded XML field extractor for device description documents (see DeviceDescription): one
 * linear pass over the bytes with an explicit element stack (no recursion), hard caps on document size,
 * depth, element count and value length, and no entity expansion beyond the five predefined entities and
 * numeric character references (so nothing like "billion laughs" can grow). Comments, processing
 * instructions, CDATA and DOCTYPE declarations are skipped or read as text as XML says; namespace prefixes
 * are ignored and names compared case-insensitively. Odd or cut documents are read as far as they go:
 * a cut value is dropped, the fields before it are kept. Throws only DecodeError ('limit').
 */
import { utf8Text } from '../cursor.js';
import { DecodeError } from '../errors.js';
import type { DeviceDescription } from './types.js';

export type { DeviceDescription } from './types.js';

const D = 'upnp';
/** Largest document read. */
export const UPNP_MAX_DOCUMENT = 64 * 1024;
export const UPNP_MAX_DEPTH = 32;
export const UPNP_MAX_ELEMENTS = 4096;
/** Longest value kept (characters, after decoding); longer values are cut. */
export const UPNP_MAX_VALUE = 256;
const MAX_NAME = 64;

// Element roles on the stack.
const OTHER = 0;
const ROOT = 1;
const DEVICE = 2;
const ENVELOPE = 3;
const BODY = 4;
const HNAP = 5;
const FIELD = 6;

// Value slots.
const F_TYPE = 0;
const F_FRIENDLY = 1;
const F_MANUFACTURER = 2;
const F_MODEL = 3;
const F_NUMBER = 4;
const F_DESCRIPTION = 5;
const F_SERIAL = 6;
const F_UDN = 7;
const F_FIRMWARE = 8;
const F_SOFTWARE = 9;
const FIELDS = 10;

const UPNP_FIELDS: ReadonlyMap<string, number> = new Map([
  ['devicetype', F_TYPE],
  ['friendlyname', F_FRIENDLY],
  ['manufacturer', F_MANUFACTURER],
  ['modelname', F_MODEL],
  ['modelnumber', F_NUMBER],
  ['modeldescription', F_DESCRIPTION],
  ['serialnumber', F_SERIAL],
  ['udn', F_UDN],
  ['firmwareversion', F_FIRMWARE],
  ['softwareversion', F_SOFTWARE],
]);

const HNAP_FIELDS: ReadonlyMap<string, number> = new Map([
  ['type', F_TYPE],
  ['devicename', F_FRIENDLY],
  ['vendorname', F_MANUFACTURER],
  ['modelname', F_MODEL],
  ['modeldescription', F_DESCRIPTION],
  ['firmwareversion', F_FIRMWARE],
]);

const latin1 = new TextDecoder('latin1');

function isNameByte(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f || // _
    c === 0x3a || // :
    c === 0x2d || // -
    c === 0x2e || // .
    c >= 0x80
  );
}

/** Lower-cased local name (prefix dropped) of the element name in [s, e). */
function localName(b: Uint8Array, s: number, e: number): string {
  let st = s;
  const en = Math.min(e, s + MAX_NAME);
  for (let i = s; i < en; i++) if (b[i] === 0x3a) st = i + 1;
  return latin1.decode(b.subarray(st, en)).toLowerCase();
}

/** Index of the first occurrence of `pat` (ASCII) in [from, end), or -1. */
function find(b: Uint8Array, from: number, end: number, pat: string): number {
  const n = pat.length;
  const c0 = pat.charCodeAt(0);
  outer: for (let i = from; i + n <= end; i++) {
    if (b[i] !== c0) continue;
    for (let j = 1; j < n; j++) if (b[i + j] !== pat.charCodeAt(j)) continue outer;
    return i;
  }
  return -1;
}

function startsWith(b: Uint8Array, p: number, end: number, pat: string): boolean {
  if (p + pat.length > end) return false;
  for (let j = 0; j < pat.length; j++) if (b[p + j] !== pat.charCodeAt(j)) return false;
  return true;
}

/** The '>' ending a start tag whose name ends at `p` (quoted attribute values may hold '>'), or -1. */
function tagEnd(b: Uint8Array, p: number, end: number): number {
  for (let i = p; i < end; i++) {
    const c = b[i];
    if (c === 0x3e) return i;
    if (c === 0x3c) return -1;
    if (c === 0x22 || c === 0x27) {
      let j = i + 1;
      while (j < end && b[j] !== c) j++;
      if (j >= end) return -1;
      i = j;
    }
  }
  return -1;
}

/** The '>' ending a `<!…>` declaration starting at `p` (brackets of an internal subset nest), or -1. */
function declEnd(b: Uint8Array, p: number, end: number): number {
  let brackets = 0;
  for (let i = p; i < end; i++) {
    const c = b[i];
    if (c === 0x5b) brackets++;
    else if (c === 0x5d) brackets = Math.max(0, brackets - 1);
    else if (c === 0x3e && brackets === 0) return i;
    else if (c === 0x22 || c === 0x27) {
      let j = i + 1;
      while (j < end && b[j] !== c) j++;
      if (j >= end) return -1;
      i = j;
    }
  }
  return -1;
}

const ENTITY = /&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|(amp|lt|gt|quot|apos));/g;
const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The five predefined entities and character references, in one pass (never re-expanded). */
export function decodeXmlEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY, (m, hex?: string, dec?: string, name?: string) => {
    if (name !== undefined) return NAMED[name] ?? m;
    const cp = hex !== undefined ? parseInt(hex, 16) : parseInt(dec ?? '', 10);
    if (!(cp > 0 && cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff)) return m;
    return String.fromCodePoint(cp);
  });
}

function clean(s: string): string | null {
  const t = s.replace(/\s+/g, ' ').trim();
  if (t.length === 0) return null;
  return t.length > UPNP_MAX_VALUE ? t.slice(0, UPNP_MAX_VALUE) : t;
}

/**
 * The identity fields of a device description in bytes [offset, offset + length), or null when the document
 * is not one (another root element, a SOAP response other than HNAP GetDeviceSettings, no field found).
 * Throws DecodeError('limit') for a document over UPNP_MAX_DOCUMENT bytes, deeper than UPNP_MAX_DEPTH or
 * with more than UPNP_MAX_ELEMENTS elements.
 */
export function decodeDeviceDescription(
  b: Uint8Array,
  offset = 0,
  length = b.length - offset,
): DeviceDescription | null {
  const start = Math.max(0, offset);
  const end = Math.min(b.length, start + Math.max(0, length));
  if (end - start > UPNP_MAX_DOCUMENT)
    throw new DecodeError('limit', D, `document of ${end - start} bytes`, start);
  const roles = new Uint8Array(UPNP_MAX_DEPTH);
  const values: (string | null)[] = new Array<string | null>(FIELDS).fill(null);
  let format: DeviceDescription['format'] | null = null;
  let depth = 0;
  let elements = 0;
  let deviceSeen = false;
  let field = -1;
  let fieldDepth = -1;
  let text = '';
  const rawCap = UPNP_MAX_VALUE * 4;

  let p = start;
  scan: while (p < end) {
    if (b[p] !== 0x3c) {
      let q = p;
      while (q < end && b[q] !== 0x3c) q++;
      if (field >= 0 && depth === fieldDepth && text.length < rawCap)
        text += decodeXmlEntities(utf8Text(b.subarray(p, Math.min(q, p + rawCap))));
      p = q;
      continue;
    }
    const c1 = b[p + 1];
    if (c1 === 0x3f) {
      // <? … ?>
      const q = find(b, p + 2, end, '?>');
      if (q < 0) break;
      p = q + 2;
      continue;
    }
    if (c1 === 0x21) {
      if (startsWith(b, p, end, '<!--')) {
        const q = find(b, p + 4, end, '-->');
        if (q < 0) break;
        p = q + 3;
      } else if (startsWith(b, p, end, '<![CDATA[')) {
        const q = find(b, p + 9, end, ']]>');
        if (q < 0) break;
        if (field >= 0 && depth === fieldDepth && text.length < rawCap)
          text += utf8Text(b.subarray(p + 9, Math.min(q, p + 9 + rawCap)));
        p = q + 3;
      } else {
        const q = declEnd(b, p + 2, end);
        if (q < 0) break;
        p = q + 1;
      }
      continue;
    }
    if (c1 === 0x2f) {
      // </name>
      const q = find(b, p + 2, end, '>');
      if (q < 0) break;
      if (depth === 0) break;
      if (field >= 0 && depth === fieldDepth) {
        if (values[field] === null) values[field] = clean(text);
        field = -1;
        text = '';
      }
      depth--;
      const role = roles[depth];
      p = q + 1;
      // The root device's (or the HNAP response's) end: nothing after it is read.
      if (role === DEVICE || role === HNAP) break scan;
      continue;
    }
    // Start tag.
    let q = p + 1;
    while (q < end && isNameByte(b[q] ?? 0)) q++;
    if (q === p + 1) {
      p++; // a bare '<' in text: not markup
      continue;
    }
    const te = tagEnd(b, q, end);
    if (te < 0) break;
    if (++elements > UPNP_MAX_ELEMENTS)
      throw new DecodeError('limit', D, `more than ${UPNP_MAX_ELEMENTS} elements`, p);
    const selfClosing = b[te - 1] === 0x2f;
    const name = localName(b, p + 1, q);
    const parent = depth > 0 ? (roles[depth - 1] ?? OTHER) : -1;
    let role = OTHER;
    let f = -1;
    if (depth === 0) {
      if (name === 'root') {
        role = ROOT;
        format = 'upnp';
      } else if (name === 'envelope') role = ENVELOPE;
      else return null; // another document
    } else if (parent === ROOT && name === 'device' && !deviceSeen) {
      role = DEVICE;
      deviceSeen = true;
    } else if (parent === ENVELOPE && name === 'body') role = BODY;
    else if (parent === BODY && name === 'getdevicesettingsresponse') {
      role = HNAP;
      format = 'hnap';
    } else if ((parent === DEVICE || parent === HNAP) && field < 0) {
      f = (parent === DEVICE ? UPNP_FIELDS : HNAP_FIELDS).get(name) ?? -1;
      if (f >= 0 && values[f] === null) role = FIELD;
    }
    p = te + 1;
    if (selfClosing) continue;
    if (depth >= UPNP_MAX_DEPTH)
      throw new DecodeError('limit', D, `elements nested deeper than ${UPNP_MAX_DEPTH}`, p);
    roles[depth++] = role;
    if (role === FIELD) {
      field = f;
      fieldDepth = depth;
      text = '';
    }
  }
  if (format === null) return null;
  const d: DeviceDescription = {
    format,
    deviceType: values[F_TYPE] ?? null,
    friendlyName: values[F_FRIENDLY] ?? null,
    manufacturer: values[F_MANUFACTURER] ?? null,
    modelName: values[F_MODEL] ?? null,
    modelNumber: values[F_NUMBER] ?? null,
    modelDescription: values[F_DESCRIPTION] ?? null,
    serialNumber: values[F_SERIAL] ?? null,
    udn: values[F_UDN] ?? null,
    firmwareVersion: values[F_FIRMWARE] ?? values[F_SOFTWARE] ?? null,
  };
  return values.some((v) => v !== null) ? d : null;
}

/**
 * Does the body in [offset, offset + length) look like an XML document (after a byte-order mark and
 * whitespace: "<?xml", "<root" or a SOAP envelope)? For bodies whose Content-Type says nothing.
 */
export function looksLikeXmlDocument(b: Uint8Array, offset = 0, length = b.length - offset): boolean {
  const end = Math.min(b.length, offset + Math.max(0, length));
  let p = offset;
  if (b[p] === 0xef && b[p + 1] === 0xbb && b[p + 2] === 0xbf) p += 3;
  while (p < end && (b[p] === 0x20 || b[p] === 0x09 || b[p] === 0x0d || b[p] === 0x0a)) p++;
  if (p >= end || b[p] !== 0x3c) return false;
  return (
    startsWith(b, p, end, '<?xml') ||
    startsWith(b, p, end, '<root') ||
    startsWith(b, p, end, '<s:Envelope') ||
    startsWith(b, p, end, '<soap:Envelope')
  );
}
