import { Module } from '@nestjs/common';
import { TaskHandlersModule } from '../../src/task-types/task-handlers.module';
import { ImageSizer } from './image-sizer.service';
import { ResizeImageHandler } from './resize-image.handler';

/** Where ImageSizer comes from: the handler's dependencies are exported by a module forFeature imports. */
@Module({ providers: [ImageSizer], exports: [ImageSizer] })
export class ImageModule {}

/** The module an application imports (main({ imports: [ResizeImageModule] })): it registers the type. */
@Module({
  imports: [TaskHandlersModule.forFeature([ResizeImageHandler], { imports: [ImageModule] })],
})
export class ResizeImageModule {}
