import type {
  AppInfo,
  LoadedArchive,
  ImageDetails,
  BerthClient,
  EventName,
  ImageSummary,
  Operation,
  Params,
  Payload,
  Platform,
  PullProgress,
  RegistriesOverview,
  Result,
  Settings,
  StoreEvent,
} from '../../shared/contract';
import { BerthError, type WireError } from '../../shared/error';
import { firstImagePage } from '../../shared/image-page';
import type { Connection, ConnectionState } from '../../renderer/src/client/ws-client';

let counter = 0;

/** Builds an image summary; `name` is a full or short `repo:tag`, omitted for a dangling image. */
export function fakeImage(overrides: Partial<ImageSummary> & { name?: string } = {}): ImageSummary {
  counter += 1;
  const hex = counter.toString(16).padStart(4, '0').repeat(16);
  const { name, ...rest } = overrides;
  const repoTags = name === undefined ? [] : [name.includes('/') ? name : `docker.io/library/${name}`];
  const image: ImageSummary = {
    id: `sha256:${hex}`,
    repoTags,
    repoDigests: [],
    digest: `sha256:${hex.split('').reverse().join('')}`,
    created: '2026-11-01T10:00:00Z',
    size: 5_000_000,
    uncompressedSize: 0,
    platform: { os: 'linux', architecture: 'amd64' },
    labels: {},
    dangling: false,
    ...rest,
  };
  return { ...image, dangling: overrides.dangling ?? image.repoTags.length === 0 };
}

/**
 * An in-memory BerthClient for renderer tests: answers the read operations from its fields, records every
 * call, fails an operation on request, can hold `images:list` answers, and pushes events like main does.
 */
export class FakeClient implements BerthClient {
  images: ImageSummary[] = [];
  pulls: PullProgress[] = [];
  events: StoreEvent[] = [];
  settings: Settings = { parallelDownloads: 4, theme: 'system' };
  app: AppInfo = {
    version: '0.0.0-test',
    storePath: '/tmp/berth-test/store',
    host: 'serve',
    platform: { os: 'linux', architecture: 'amd64' },
  };
  /** Remote tags by repository as typed (`alpine`, `localhost:5000/app`); others answer NOT_FOUND. */
  remoteTags: Record<string, string[]> = {};
  /** Platforms the remote index offers, by repository; a single linux/amd64 for any other known repository. */
  remotePlatforms: Record<string, Platform[]> = {};
  /** Remote digest per stored image name, for `images:check-update`. */
  remoteDigests: Record<string, string> = {};
  registries: RegistriesOverview = {
    sources: [],
    searchRegistries: ['docker.io'],
    aliases: {},
    shortNameMode: 'permissive',
    registries: [],
    insecureRegistries: [],
    credentials: [],
    authFile: '/tmp/berth-test/auth.json',
  };
  /** Passwords the fake registries accept, by registry. */
  passwords: Record<string, string> = {};
  /** When true, `archive:save` and `archive:load` answer as if the user cancelled the native dialog. */
  archiveCancelled = false;
  /** What `archive:load` answers with. */
  loadedArchive: LoadedArchive = {
    format: 'docker-archive',
    compression: 'none',
    images: [],
    skippedNames: [],
  };
  readonly calls: { name: Operation; params: unknown }[] = [];
  private gates = new Map<Operation, (() => void)[]>();
  private pullCount = 0;
  readonly failures = new Map<Operation, WireError>();
  private held: (() => void)[] | undefined;
  private listeners = new Map<EventName, Set<(payload: never) => void>>();

  /** From now on, `images:list` answers wait until `release()`. */
  hold(): void {
    this.held ??= [];
  }

  /** Lets every held `images:list` answer go, and stops holding. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const go of held) go();
  }

  /** From now on, answers to `name` wait until `releaseOperation(name)`. */
  holdOperation(name: Operation): void {
    if (!this.gates.has(name)) this.gates.set(name, []);
  }

  /** Lets one held answer to `name` go, the oldest or the newest; holding continues. */
  releaseOperation(name: Operation, which: 'oldest' | 'newest' = 'oldest'): void {
    const held = this.gates.get(name) ?? [];
    const go = which === 'oldest' ? held.shift() : held.pop();
    go?.();
  }

  /** The params of every call to `name`, in order. */
  paramsOf<N extends Operation>(name: N): Params<N>[] {
    return this.calls.filter((call) => call.name === name).map((call) => call.params as Params<N>);
  }

  callsTo(name: Operation): number {
    return this.calls.filter((call) => call.name === name).length;
  }

  emit<E extends EventName>(name: E, payload: Payload<E>): void {
    for (const listener of [...(this.listeners.get(name) ?? [])])
      (listener as (p: Payload<E>) => void)(payload);
  }

  subscribe<E extends EventName>(name: E, listener: (payload: Payload<E>) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  listenerCount(name: EventName): number {
    return this.listeners.get(name)?.size ?? 0;
  }

  async invoke<N extends Operation>(name: N, params: Params<N>): Promise<Result<N>> {
    this.calls.push({ name, params });
    if (name === 'images:list' && this.held) await new Promise<void>((resolve) => this.held?.push(resolve));
    const gate = this.gates.get(name);
    if (gate) await new Promise<void>((resolve) => gate.push(resolve));
    const failure = this.failures.get(name);
    if (failure) throw BerthError.fromWire(failure);
    return this.answer(name, params);
  }

  private answer<N extends Operation>(name: N, params: Params<N>): Result<N> {
    const answer = this.answers[name];
    if (!answer) throw new BerthError('UNSUPPORTED', `${name} is not faked`);
    return answer(params);
  }

  private answers: { [N in Operation]?: (params: Params<N>) => Result<N> } = {
    'images:list': () => structuredClone(this.images),
    'images:page': (params) => firstImagePage(structuredClone(this.images), params),
    'pull:list': () => structuredClone(this.pulls),
    'events:list': () => structuredClone(this.events),
    'settings:get': () => ({ ...this.settings }),
    'settings:update': (patch) => (this.settings = { ...this.settings, ...patch }),
    'app:info': () => this.app,
    'pull:cancel': () => ({ cancelled: true }),
    'push:start': () => ({ pullId: `push-${this.callsTo('push:start')}` }),
    'pull:start': () => ({ pullId: `pull-${++this.pullCount}` }),
    'pull:retry': ({ pullId }) => ({ pullId }),
    'reference:resolve': ({ reference }) => {
      const qualified = reference.includes('/') ? reference : `docker.io/library/${reference}`;
      const full = /:[^/]*$|@/.test(qualified) ? qualified : `${qualified}:latest`;
      const first = reference.split('/')[0] ?? '';
      const shortName = !reference.includes('/') || !(/[.:]/.test(first) || first === 'localhost');
      return {
        input: reference,
        shortName,
        candidates: [{ reference: full, origin: shortName ? 'search' : 'qualified' }],
        blocked: [],
        ambiguous: false,
        summary: `${reference} → ${full}${shortName ? ' (search registry)' : ''}`,
      };
    },
    'remote:tags': ({ repository }) => {
      const tags = this.remoteTags[repository];
      if (!tags) throw new BerthError('NOT_FOUND', `repository ${repository} not found`);
      return { repository, tags: [...tags] };
    },
    'remote:inspect': ({ reference }) => {
      const repository = reference.replace(/[:@][^/]*$/, '');
      if (!(repository in this.remoteTags))
        throw new BerthError('MANIFEST_UNKNOWN', `manifest for ${reference} not found`);
      return {
        name: repository,
        digest: `sha256:${'ab'.repeat(32)}`,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        platforms: this.remotePlatforms[repository] ?? [{ os: 'linux', architecture: 'amd64' }],
        size: 3_000_000,
      };
    },
    'registries:list': () => structuredClone(this.registries),
    'registries:login': ({ registry, username, password }) => {
      if (this.passwords[registry] !== password)
        throw new BerthError('UNAUTHORIZED', `${registry} rejected the credentials for ${username}`);
      this.registries.credentials.push({ registry, username, source: this.registries.authFile });
      return { registry, file: this.registries.authFile };
    },
    'registries:logout': ({ registry }) => {
      const before = this.registries.credentials.length;
      this.registries.credentials = this.registries.credentials.filter((c) => c.registry !== registry);
      return {
        registry,
        removed: before !== this.registries.credentials.length,
        file: this.registries.authFile,
      };
    },
    'images:check-update': ({ image, name }) => {
      const target = this.mustFind(image);
      const checked = name ?? target.repoTags[0] ?? '';
      const remoteDigest = this.remoteDigests[checked] ?? target.digest;
      return {
        name: checked,
        localDigest: target.digest,
        remoteDigest,
        upToDate: remoteDigest === target.digest,
      };
    },
    'images:inspect': ({ image }) => structuredClone(this.inspectOf(image)),
    'images:tag': ({ image, name }) => {
      const target = this.mustFind(image);
      const holder = this.images.find((i) => i.repoTags.includes(name));
      if (holder === target) return { id: target.id, name };
      if (holder)
        this.setNames(
          holder,
          holder.repoTags.filter((n) => n !== name),
        );
      this.setNames(target, [...target.repoTags, name]);
      return holder ? { id: target.id, name, movedFrom: holder.id } : { id: target.id, name };
    },
    'images:untag': ({ image, names }) => {
      const target = this.mustFind(image);
      const drop = names?.length ? names : [...target.repoTags];
      for (const name of drop)
        if (!target.repoTags.includes(name)) throw new BerthError('NOT_FOUND', `not named ${name}`);
      this.setNames(
        target,
        target.repoTags.filter((n) => !drop.includes(n)),
      );
      return { id: target.id, removed: drop };
    },
    'images:remove': ({ image }) => {
      const target = this.mustFind(image);
      this.images = this.images.filter((i) => i !== target);
      return { untagged: target.repoTags, deleted: [target.id], bytesFreed: target.size };
    },
    'images:prune': ({ all, dryRun }) => {
      const victims = this.images.filter((i) => all === true || i.dangling);
      if (dryRun !== true) this.images = this.images.filter((i) => !victims.includes(i));
      return {
        deleted: victims.map((i) => i.id),
        bytesFreed: dryRun === true ? 0 : victims.reduce((sum, i) => sum + i.size, 0),
      };
    },
    'archive:save': ({ images, format, compress }) => {
      if (this.archiveCancelled) return { cancelled: true };
      const saved = this.images.filter((i) => images.some((q) => q === i.id || i.repoTags.includes(q)));
      return {
        cancelled: false,
        archive: {
          path: `/home/user/${compress === true ? 'images.tar.gz' : 'images.tar'}`,
          format: format ?? 'docker-archive',
          compressed: compress === true,
          images: saved.map((i) => ({ id: i.id, names: i.repoTags.filter((n) => images.includes(n)) })),
        },
      };
    },
    'archive:load': () =>
      this.archiveCancelled
        ? { cancelled: true }
        : { cancelled: false, loaded: structuredClone(this.loadedArchive) },
    'store:df': () => ({
      totalSize: this.images.reduce((sum, i) => sum + i.size, 0),
      reclaimable: this.images.filter((i) => i.dangling).reduce((sum, i) => sum + i.size, 0),
      images: this.images.map((i) => ({
        id: i.id,
        repoTags: i.repoTags,
        size: i.size,
        sharedSize: 0,
        uniqueSize: i.size,
      })),
    }),
  };

  /** Inspect answers by image ID; an image without one gets a plain document built from its summary. */
  readonly details = new Map<string, Partial<ImageDetails>>();

  private inspectOf(id: string): ImageDetails {
    const image = this.mustFind(id);
    return {
      ...image,
      manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      env: [],
      exposedPorts: [],
      annotations: {},
      layers: [],
      diffIds: [],
      history: [],
      config: {},
      manifest: {},
      ...this.details.get(image.id),
    };
  }

  private mustFind(query: string): ImageSummary {
    const image = this.images.find((i) => i.id === query || i.repoTags.includes(query));
    if (!image) throw new BerthError('NOT_FOUND', `no image ${query}`);
    return image;
  }

  private setNames(image: ImageSummary, repoTags: string[]): void {
    const next = { ...image, repoTags, dangling: repoTags.length === 0 };
    this.images = this.images.map((i) => (i === image ? next : i));
  }
}

/** A connection whose state the test sets by hand. */
export class FakeConnection implements Connection {
  private state: ConnectionState = 'open';
  private listeners = new Set<(state: ConnectionState) => void>();

  getState(): ConnectionState {
    return this.state;
  }

  subscribeState(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(state: ConnectionState): void {
    this.state = state;
    for (const listener of [...this.listeners]) listener(state);
  }
}
