/**
 * The service with the resize-image type: the same entry point as src/main.ts, plus the application's
 * module. Run with `npx ts-node --transpile-only examples/resize-image/main.ts` (or compile it with the
 * service); every process that runs tasks of the type, API and worker, must include the module.
 */
import { main } from '../../src/main';
import { ResizeImageModule } from './resize-image.module';

void main({ imports: [ResizeImageModule] });
