import { describe, expect, it } from 'vitest';
import type { ImageSummary } from '../../shared/contract';
import { checkTagName, describePlan, planDrop } from '../../renderer/src/state/tag-plan';
import { fakeImage } from './fake-client';

const byIdOf = (...images: ImageSummary[]) => Object.fromEntries(images.map((i) => [i.id, i]));

describe('checkTagName', () => {
  it('completes short names the way docker does', () => {
    expect(checkTagName(' alpine ')).toEqual({ ok: true, name: 'docker.io/library/alpine:latest' });
    expect(checkTagName('ghcr.io/acme/app:edge')).toEqual({ ok: true, name: 'ghcr.io/acme/app:edge' });
  });

  it('refuses empty input, bad grammar and digests with a reason', () => {
    const reason = (input: string) => {
      const check = checkTagName(input);
      return check.ok ? undefined : check.message;
    };
    expect(reason('')).toContain('Enter a name');
    expect(reason('Alpine:1')).toContain('lowercase');
    expect(reason('app:bad tag')).toBeTruthy();
    expect(reason(`app@sha256:${'a'.repeat(64)}`)).toContain('digest');
  });
});

describe('planDrop', () => {
  const alpine = fakeImage({
    repoTags: ['docker.io/library/alpine:3.20', 'docker.io/library/alpine:latest'],
  });
  const web = fakeImage({ repoTags: ['docker.io/acme/web:1.0'] });
  const webOld = fakeImage({ repoTags: ['docker.io/acme/web:3.20'] });
  const dangling = fakeImage();
  const byId = byIdOf(alpine, web, webOld, dangling);
  const drag = { name: 'docker.io/library/alpine:latest', from: alpine.id };

  it('moves the exact name and says which image loses it', () => {
    const plan = planDrop(drag, web, byId, false);
    expect(plan).toEqual({ kind: 'tag', name: drag.name, image: web.id, movesFrom: alpine.id, copy: false });
    expect(describePlan(plan)).toBe(`Move alpine:latest here — moves from ${alpine.id.slice(7, 19)}…`);
  });

  it('onto a dangling image still moves', () => {
    expect(planDrop(drag, dangling, byId, false)).toMatchObject({ kind: 'tag', name: drag.name });
  });

  it('does nothing on the image the tag came from', () => {
    expect(planDrop(drag, alpine, byId, false)).toEqual({ kind: 'none', reason: 'The tag is already here' });
    expect(planDrop(drag, alpine, byId, true).kind).toBe('none');
  });

  it('does nothing on an image that already has the name', () => {
    const other = fakeImage({ repoTags: ['docker.io/library/alpine:latest'] });
    expect(planDrop(drag, other, byIdOf(alpine, other), false)).toMatchObject({ kind: 'none' });
  });

  it('copies the tag into the target repository with Alt, keeping the source', () => {
    const plan = planDrop(drag, web, byId, true);
    expect(plan).toEqual({ kind: 'tag', name: 'docker.io/acme/web:latest', image: web.id, copy: true });
    expect(describePlan(plan)).toBe('Copy as acme/web:latest');
  });

  it('says when a copy takes the name from a third image', () => {
    const plan = planDrop({ name: 'docker.io/library/alpine:3.20', from: alpine.id }, web, byId, true);
    expect(plan).toMatchObject({ kind: 'tag', name: 'docker.io/acme/web:3.20', movesFrom: webOld.id });
  });

  it('refuses a copy that would be the same name, rather than moving it', () => {
    const sibling = fakeImage({ name: 'alpine:edge' });
    const plan = planDrop(drag, sibling, byIdOf(alpine, sibling), true);
    expect(plan.kind).toBe('none');
    expect(describePlan(plan)).toContain('can name only one image');
    expect(planDrop(drag, dangling, byId, true)).toMatchObject({ kind: 'none' });
  });
});
