import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { ListQueryDto } from '../../common/pagination/pagination';
import { EVENT_TYPES } from '../event.types';

export class EventListQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ description: 'Only events of this run (run.id)' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  run?: string;

  @ApiPropertyOptional({ enum: EVENT_TYPES, description: 'Only events of this type' })
  @IsOptional()
  @IsIn(EVENT_TYPES, { message: `must be one of ${EVENT_TYPES.join(', ')}` })
  type?: string;

  @ApiPropertyOptional({ description: 'Only events of this project' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  project?: string;
}
