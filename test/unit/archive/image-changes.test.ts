import { describe, expect, it } from 'vitest';
import { applyChanges } from '../../../electron/core/archive/image-changes';

describe('--change instructions, as docker import reads them', () => {
  it('reads CMD and ENTRYPOINT in JSON-array and shell form', () => {
    expect(applyChanges({}, ['CMD ["nginx", "-g", "daemon off;"]'])).toEqual({
      Cmd: ['nginx', '-g', 'daemon off;'],
    });
    expect(applyChanges({}, ['CMD echo "hello world"'])).toEqual({
      Cmd: ['/bin/sh', '-c', 'echo "hello world"'],
    });
    expect(applyChanges({}, ['ENTRYPOINT [not json'])).toEqual({
      Entrypoint: ['/bin/sh', '-c', '[not json'],
    });
    expect(applyChanges({}, ['cmd ["lower"]'])).toEqual({ Cmd: ['lower'] });
  });

  it('reads ENV k=v pairs with quotes and escapes, ENV k v, and replaces an earlier value', () => {
    expect(
      applyChanges({}, ['ENV A=1 B="two words" C=x\\ y', 'ENV PATH /usr/bin:/bin', 'ENV A=3']).Env,
    ).toEqual(['B=two words', 'C=x y', 'PATH=/usr/bin:/bin', 'A=3']);
  });

  it('reads several labels in one LABEL, EXPOSE with protocols and ranges, VOLUME in both forms', () => {
    expect(applyChanges({}, ['LABEL a=b "c d"="e f"', 'LABEL a=z'])).toEqual({
      Labels: { a: 'z', 'c d': 'e f' },
    });
    expect(applyChanges({}, ['EXPOSE 80 443/TCP 53/udp 8000-8010']).ExposedPorts).toEqual({
      '80/tcp': {},
      '443/tcp': {},
      '53/udp': {},
      '8000-8010/tcp': {},
    });
    expect(applyChanges({}, ['VOLUME ["/a", "/b c"]', 'VOLUME /d /e']).Volumes).toEqual({
      '/a': {},
      '/b c': {},
      '/d': {},
      '/e': {},
    });
  });

  it('reads USER and WORKDIR, a relative WORKDIR joining the one before', () => {
    expect(applyChanges({}, ['USER 1000:1000', 'WORKDIR /srv', 'WORKDIR app/../www'])).toEqual({
      User: '1000:1000',
      WorkingDir: '/srv/www',
    });
    expect(applyChanges({}, ['WORKDIR rel']).WorkingDir).toBe('/rel');
  });

  it('refuses other instructions and malformed ones, naming them', () => {
    for (const [change, message] of [
      ['RUN apt-get update', /RUN cannot be used with import/],
      ['FROM scratch', /FROM cannot be used with import/],
      ['HEALTHCHECK NONE', /HEALTHCHECK cannot be used/],
      ['ONBUILD RUN x', /ONBUILD cannot be used/],
      ['', /no instruction given/],
      ['ENV', /ENV needs at least one key=value/],
      ['EXPOSE 99999', /port 99999 is out of range/],
      ['USER', /USER needs a user name/],
      ['CMD', /CMD needs a command/],
    ] as const) {
      expect(() => applyChanges({}, [change]), change).toThrow(message);
      try {
        applyChanges({}, [change]);
      } catch (err) {
        expect((err as { code: string }).code).toBe('BAD_REQUEST');
      }
    }
  });
});
