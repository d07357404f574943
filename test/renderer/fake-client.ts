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
  PullProgress,
  Result,
  Settings,
  StoreEvent,
} from '../../shared/contract';
import { BerthError, type WireError } from '../../shared/error';
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
    'pull:list': () => structuredClone(this.pulls),
    'events:list': () => structuredClone(this.events),
    'settings:get': () => ({ ...this.settings }),
    'settings:update': (patch) => (this.settings = { ...this.settings, ...patch }),
    'app:info': () => this.app,
    'pull:cancel': () => ({ cancelled: true }),
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
