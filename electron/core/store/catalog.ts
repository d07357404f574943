import { formatReference, normalizeReference } from '../../../shared/reference';
import { annotations, isIndexMediaType, mediaTypes, type Descriptor, type IndexDocument } from './layout';

/** One image as `index.json` names it: a platform manifest, reached directly or through an index. */
export interface CatalogImage {
  /** Digest of the platform manifest: the store's key for an image. */
  manifestDigest: string;
  /** The descriptor its entries point at: the manifest itself, or the index it was pulled through. */
  top: Descriptor;
  /** Normalized names, in `index.json` order; empty for a dangling image. */
  names: string[];
}

/**
 * The images and names an `index.json` holds. Invariant kept by every mutation: an image has either one
 * entry per name, or exactly one entry without a name (it is dangling, `<none>`). Entries Berth does not
 * understand (artifacts, unreadable indexes) are carried through rewrites untouched.
 */
export class Catalog {
  readonly images: Map<string, CatalogImage>;
  private readonly byName: Map<string, string>;
  /** Each image's first entry: it decides the image's place in `images`. */
  private readonly firstEntry: Map<string, Descriptor>;
  /** True when some name is on more than one entry (only foreign tools write such documents). */
  private readonly duplicateNames: boolean;

  /**
   * @param manifestOf the platform manifest an entry stands for (undefined for entries that are no image);
   *   computed by the caller because an index entry without Berth's annotation needs the index blob read.
   */
  constructor(
    readonly doc: IndexDocument,
    private readonly manifestOf: readonly (string | undefined)[],
    built?: Built,
  ) {
    if (built) {
      ({ images: this.images, byName: this.byName, firstEntry: this.firstEntry } = built);
      this.duplicateNames = false;
      return;
    }
    this.images = new Map();
    this.byName = new Map();
    this.firstEntry = new Map();
    let duplicateNames = false;
    doc.manifests.forEach((entry, i) => {
      const manifestDigest = manifestOf[i];
      if (manifestDigest === undefined) return;
      let image = this.images.get(manifestDigest);
      if (!image) {
        image = { manifestDigest, top: bareDescriptor(entry), names: [] };
        this.images.set(manifestDigest, image);
        this.firstEntry.set(manifestDigest, entry);
      }
      const name = entryName(entry);
      if (name === undefined) return;
      if (this.byName.has(name)) {
        duplicateNames = true;
        return;
      }
      image.names.push(name);
      this.byName.set(name, manifestDigest);
    });
    this.duplicateNames = duplicateNames;
  }

  /** The image holding a normalized name. */
  imageByName(name: string): CatalogImage | undefined {
    const key = this.byName.get(name);
    return key === undefined ? undefined : this.images.get(key);
  }

  /** Every name in the store. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Adds `name` to an image, taking it from whichever image held it. */
  withName(manifestDigest: string, name: string): { doc: IndexDocument; movedFrom?: string } {
    const image = this.mustGet(manifestDigest);
    const holder = this.byName.get(name);
    if (holder === manifestDigest) return { doc: this.doc };
    const keep: Descriptor[] = [];
    this.doc.manifests.forEach((entry, i) => {
      const key = this.manifestOf[i];
      if (key === manifestDigest && entryName(entry) === undefined) return;
      if (key !== undefined && key === holder && entryName(entry) === name) return;
      keep.push(entry);
    });
    keep.push(imageEntry(image, name));
    if (holder !== undefined && this.mustGet(holder).names.length === 1)
      keep.push(imageEntry(this.mustGet(holder)));
    return holder === undefined
      ? { doc: { ...this.doc, manifests: keep } }
      : { doc: { ...this.doc, manifests: keep }, movedFrom: holder };
  }

  /** Removes names from an image; an image left without names stays as one dangling entry. */
  withoutNames(manifestDigest: string, names: readonly string[]): IndexDocument {
    const image = this.mustGet(manifestDigest);
    const drop = new Set(names);
    const keep = this.doc.manifests.filter((entry, i) => {
      if (this.manifestOf[i] !== manifestDigest) return true;
      const name = entryName(entry);
      return name === undefined || !drop.has(name);
    });
    if (image.names.every((n) => drop.has(n)) && image.names.length > 0) keep.push(imageEntry(image));
    return { ...this.doc, manifests: keep };
  }

  /** Removes every entry of the given images. */
  withoutImages(manifestDigests: readonly string[]): IndexDocument {
    const drop = new Set(manifestDigests);
    return {
      ...this.doc,
      manifests: this.doc.manifests.filter((_, i) => !drop.has(this.manifestOf[i] ?? '')),
    };
  }

  /** Adds an image (or names to it): names taken from other images leave those dangling if it was their last. */
  withImage(
    image: CatalogImage,
    names: readonly string[],
  ): { doc: IndexDocument; movedFrom: Record<string, string> } {
    const movedFrom: Record<string, string> = {};
    const existing = this.images.get(image.manifestDigest);
    let catalog = existing
      ? new Catalog(this.doc, this.manifestOf)
      : new Catalog({ ...this.doc, manifests: [...this.doc.manifests, imageEntry(image)] }, [
          ...this.manifestOf,
          image.manifestDigest,
        ]);
    for (const name of names) {
      const { doc, movedFrom: from } = catalog.withName(image.manifestDigest, name);
      if (from !== undefined) movedFrom[name] = from;
      catalog = catalog.rebuiltWith(doc);
    }
    return { doc: catalog.doc, movedFrom };
  }

  /**
   * A catalog over an edited document whose entries are all known images or carried-through entries. When
   * the edit has the shape every mutation gives it (some entries dropped, new ones appended), only the
   * images and names it touches are worked out again; the result equals a catalog built from scratch.
   */
  rebuiltWith(doc: IndexDocument): Catalog {
    return this.edited(doc, false) ?? this.rebuiltFromScratch(doc);
  }

  /**
   * As `rebuiltWith`, but the new catalog may take over this one's maps instead of copying them (copying
   * three 10,000-entry maps per tag costs more than the tag). This catalog must not be used afterwards.
   */
  movedTo(doc: IndexDocument): Catalog {
    return this.edited(doc, true) ?? this.rebuiltFromScratch(doc);
  }

  /**
   * The catalog of an edit that drops entries and appends new ones, worked out from this one without looking
   * at untouched entries. Undefined when the shortcut cannot guarantee the result a full build gives: names
   * on several entries, an image losing its first entry (its place in `images` moves), a name appended while
   * another entry still holds it.
   */
  private edited(doc: IndexDocument, reuse: boolean): Catalog | undefined {
    if (this.duplicateNames) return undefined;
    const edit = editOf(this.doc.manifests, doc.manifests);
    if (!edit) return undefined;
    const manifestOf = edit.keptFrom.map((i) => this.manifestOf[i]);
    // Check everything before touching a map, so a refusal leaves this catalog intact.
    const removedNames = new Set<string>();
    const touched = new Set<string>();
    for (const i of edit.removed) {
      const manifestDigest = this.manifestOf[i];
      if (manifestDigest === undefined) continue;
      const entry = this.doc.manifests[i]!;
      if (this.firstEntry.get(manifestDigest) === entry) return undefined;
      touched.add(manifestDigest);
      const name = entryName(entry);
      if (name !== undefined) removedNames.add(name);
    }
    const added: [string, string][] = [];
    const firstOfNew = new Map<string, Descriptor>();
    for (const entry of doc.manifests.slice(edit.keptFrom.length)) {
      const manifestDigest = directManifestOf(entry);
      manifestOf.push(manifestDigest);
      if (manifestDigest === undefined) continue;
      touched.add(manifestDigest);
      if (!this.firstEntry.has(manifestDigest) && !firstOfNew.has(manifestDigest))
        firstOfNew.set(manifestDigest, entry);
      const name = entryName(entry);
      if (name === undefined) continue;
      if ((this.byName.has(name) && !removedNames.has(name)) || added.some(([, taken]) => taken === name))
        return undefined;
      added.push([manifestDigest, name]);
    }
    const byName = reuse ? this.byName : new Map(this.byName);
    const firstEntry = reuse ? this.firstEntry : new Map(this.firstEntry);
    const images = reuse ? this.images : new Map(this.images);
    for (const name of removedNames) byName.delete(name);
    for (const [manifestDigest, name] of added) byName.set(name, manifestDigest);
    for (const [manifestDigest, entry] of firstOfNew) firstEntry.set(manifestDigest, entry);
    for (const manifestDigest of touched) {
      const before = images.get(manifestDigest);
      const names = (before?.names ?? []).filter(
        (n) => !removedNames.has(n) && byName.get(n) === manifestDigest,
      );
      for (const [holder, name] of added) if (holder === manifestDigest) names.push(name);
      const top = before?.top ?? bareDescriptor(firstEntry.get(manifestDigest)!);
      images.set(manifestDigest, { manifestDigest, top, names });
    }
    return new Catalog(doc, manifestOf, { images, byName, firstEntry });
  }

  private rebuiltFromScratch(doc: IndexDocument): Catalog {
    const known = new Map<Descriptor, string | undefined>();
    this.doc.manifests.forEach((entry, i) => known.set(entry, this.manifestOf[i]));
    return new Catalog(
      doc,
      doc.manifests.map((entry) => (known.has(entry) ? known.get(entry) : directManifestOf(entry))),
    );
  }

  private mustGet(manifestDigest: string): CatalogImage {
    const image = this.images.get(manifestDigest);
    if (!image) throw new Error(`no image ${manifestDigest} in the catalog`);
    return image;
  }
}

/**
 * How `after` was made from `before` when it keeps some of `before`'s entries (the same objects, in order)
 * and appends entries `before` does not have; undefined for any other edit.
 */
export function editOf(
  before: readonly Descriptor[],
  after: readonly Descriptor[],
): { keptFrom: number[]; removed: number[] } | undefined {
  const keptFrom: number[] = [];
  const removed: number[] = [];
  let i = 0;
  let k = 0;
  for (; k < after.length; k++) {
    const entry = after[k];
    let j = i;
    while (j < before.length && before[j] !== entry) j++;
    if (j === before.length) break;
    for (; i < j; i++) removed.push(i);
    keptFrom.push(i++);
  }
  for (; i < before.length; i++) removed.push(i);
  if (k < after.length) {
    const dropped = new Set(removed.map((r) => before[r]));
    for (let t = k; t < after.length; t++) if (dropped.has(after[t])) return undefined;
  }
  return { keptFrom, removed };
}

/** What `Catalog.edited` hands the constructor. */
interface Built {
  images: Map<string, CatalogImage>;
  byName: Map<string, string>;
  firstEntry: Map<string, Descriptor>;
}

/** The normalized name an entry carries, if any. Names other tools wrote short (`alpine:3`) are normalized. */
export function entryName(entry: Descriptor): string | undefined {
  const raw = entry.annotations?.[annotations.refName];
  if (raw === undefined || raw === '') return undefined;
  let name = normalized.get(raw);
  if (name === undefined) {
    try {
      name = isCanonical(raw) ? raw : formatReference(normalizeReference(raw));
    } catch {
      name = raw;
    }
    if (normalized.size > 100_000) normalized.clear();
    normalized.set(raw, name);
  }
  return name;
}

// Every snapshot re-reads thousands of names that rarely change; parsing each once is enough.
const normalized = new Map<string, string>();

const pathComponent = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** Names already in the canonical form Berth writes need no parsing (docker.io ones carry two path parts). */
function isCanonical(raw: string): boolean {
  if (raw.startsWith('index.docker.io/')) return false;
  if (raw.startsWith('docker.io/') && raw.indexOf('/', 'docker.io/'.length) < 0) return false;
  return raw.length < 300 && canonicalName.test(raw);
}

const canonicalName = new RegExp(
  `^(?:localhost|(?:[a-z0-9-]+\\.)+[a-z0-9-]+)(?::[0-9]+)?/${pathComponent}(?:/${pathComponent})*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`,
);

/** The platform manifest an entry names without reading any blob, when that is possible. */
export function directManifestOf(entry: Descriptor): string | undefined {
  if (isIndexMediaType(entry.mediaType)) return entry.annotations?.[annotations.manifest];
  if (entry.mediaType === mediaTypes.ociManifest || entry.mediaType === mediaTypes.dockerManifest)
    return entry.digest;
  return undefined;
}

/** The `index.json` entry for an image under `name` (or dangling without one). */
export function imageEntry(image: CatalogImage, name?: string): Descriptor {
  const entry: Descriptor = bareDescriptor(image.top);
  const notes: Record<string, string> = {};
  if (name !== undefined) notes[annotations.refName] = name;
  if (isIndexMediaType(image.top.mediaType)) notes[annotations.manifest] = image.manifestDigest;
  if (Object.keys(notes).length > 0) entry.annotations = notes;
  return entry;
}

function bareDescriptor(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.platform) out.platform = d.platform;
  return out;
}
