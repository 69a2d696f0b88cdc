import { IsIn, IsInt, IsOptional, IsUrl, Max, Min } from 'class-validator';

export const FITS = ['contain', 'cover'] as const;

/**
 * The payload of a `resize-image` task, checked at submit (a 400 names the field: `payload.width must be
 * a positive integer`) and again before each run. Unknown fields are refused (`property payload.x should
 * not exist`). Messages start with the field name; the API prefixes it with `payload.`.
 */
export class ResizeImagePayload {
  @IsUrl({ protocols: ['https'], require_protocol: true }, { message: 'url must be an https URL' })
  url!: string;

  // Checked bottom-up, stopping at the first error: the type check goes last.
  @Max(10_000, { message: 'width must be at most 10000' })
  @Min(1, { message: 'width must be a positive integer' })
  @IsInt({ message: 'width must be a positive integer' })
  width!: number;

  @IsOptional()
  @Max(10_000, { message: 'height must be at most 10000' })
  @Min(1, { message: 'height must be a positive integer' })
  @IsInt({ message: 'height must be a positive integer' })
  height?: number;

  @IsOptional()
  @IsIn(FITS, { message: `fit must be one of: ${FITS.join(', ')}` })
  fit?: (typeof FITS)[number];
}
