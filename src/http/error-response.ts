import { ApiProperty } from '@nestjs/swagger';

/**
 * The body of every error answer (HttpErrorFilter builds it typed by this class, so the OpenAPI
 * document cannot drift from what is sent). Health probes answer their own report instead.
 */
export class ErrorResponse {
  @ApiProperty({ example: 404, description: 'the HTTP status code' })
  statusCode: number;

  @ApiProperty({ example: 'Not Found', description: 'the status text of the code' })
  error: string;

  @ApiProperty({ example: 'task not found', description: 'what went wrong, for people; several problems are joined by "; "' })
  message: string;
}
