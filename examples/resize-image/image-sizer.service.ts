import { Injectable } from '@nestjs/common';

export interface Size {
  width: number;
  height: number;
}

/**
 * Stands in for the real work (fetching the image, resizing it, storing the result): it answers the
 * size a source of `source` pixels gets in a `box`, keeping its aspect ratio. A provider of its own
 * module, so the example shows how a handler gets its dependencies.
 */
@Injectable()
export class ImageSizer {
  fit(source: Size, box: { width: number; height?: number }, mode: 'contain' | 'cover' = 'contain'): Size {
    const height = box.height ?? Number.POSITIVE_INFINITY;
    const scales = [box.width / source.width, height / source.height];
    const scale = mode === 'cover' && box.height !== undefined ? Math.max(...scales) : Math.min(...scales);
    return { width: Math.max(1, Math.round(source.width * scale)), height: Math.max(1, Math.round(source.height * scale)) };
  }
}
