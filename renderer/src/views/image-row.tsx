import { memo } from 'react';
import type { ImageSummary } from '../../../shared/contract';
import { shortId } from '../../../shared/digest';
import { formatBytes, formatPlatform, formatRelativeTime } from '../../../shared/format';
import { imageNames } from '../state/image-names';

function displayId(id: string): string {
  try {
    return shortId(id);
  } catch {
    return id.slice(0, 12);
  }
}

interface ImageRowProps {
  image: ImageSummary;
  /** 1-based position among all rows, header included, for `aria-rowindex`. */
  rowIndex: number;
  now: number;
  /** Vertical offset inside the virtual body. */
  top: number;
  height: number;
}

/** One image in the table: name, tag chips, short ID, age, size, platform and the `<none>` badge. */
export const ImageRow = memo(function ImageRow({ image, rowIndex, now, top, height }: ImageRowProps) {
  const names = imageNames(image);
  return (
    <div
      className="image-row"
      role="row"
      aria-rowindex={rowIndex}
      data-testid="image-row"
      data-image-id={image.id}
      style={{ transform: `translateY(${top}px)`, height }}
    >
      <div className="cell cell-name" role="cell">
        {image.dangling || names.repository === '<none>' ? (
          <span className="badge badge-dangling" title="Dangling: no name points at this image">
            &lt;none&gt;
          </span>
        ) : (
          <span className="image-name" title={names.repository}>
            {names.repository}
          </span>
        )}
        {image.needsRepull && (
          <span
            className="badge badge-failed"
            title="A blob of this image is corrupt or missing: pull it again"
          >
            needs re-pull
          </span>
        )}
      </div>
      <div className="cell cell-tags" role="cell">
        {names.tags.map((tag) => (
          <span key={tag.name} className="chip" title={tag.name} data-testid="tag-chip">
            {tag.label}
          </span>
        ))}
      </div>
      <div className="cell cell-id mono" role="cell" title={image.id}>
        {displayId(image.id)}
      </div>
      <div className="cell cell-created" role="cell" title={image.created}>
        {formatRelativeTime(image.created, now)}
      </div>
      <div className="cell cell-size num" role="cell" title={`${image.size.toLocaleString('en')} bytes`}>
        {formatBytes(image.size)}
      </div>
      <div className="cell cell-platform" role="cell">
        {formatPlatform(image.platform)}
      </div>
    </div>
  );
});
