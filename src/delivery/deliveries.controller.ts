import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthContext } from '../auth/auth-context';
import { Auth, Roles } from '../auth/decorators';
import { ApiErrorDto, ApiIdParam, ApiStandardErrors } from '../common/api-docs';
import { DeliveriesService } from './deliveries.service';
import { DeliveryDetailDto, DeliveryDto, DeliveryListQueryDto, DeliveryPageDto } from './dto/delivery.dto';

@ApiTags('Deliveries')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('v1/deliveries')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Get()
  @Roles('member')
  @ApiOperation({ summary: 'Delivery history, newest first (member)' })
  @ApiOkResponse({ type: DeliveryPageDto })
  list(@Auth() auth: AuthContext, @Query() query: DeliveryListQueryDto) {
    return this.deliveries.list(auth, query);
  }

  @Get(':id')
  @Roles('member')
  @ApiOperation({ summary: 'One delivery with every attempt (member)' })
  @ApiOkResponse({ type: DeliveryDetailDto })
  @ApiIdParam('The delivery id (msg_…)')
  get(@Auth() auth: AuthContext, @Param('id') id: string) {
    return this.deliveries.get(auth, id);
  }

  @Post(':id/redeliver')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send the stored body again as a new attempt series of the same delivery id (admin)' })
  @ApiOkResponse({ type: DeliveryDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'It is pending, sending or retrying, or its webhook is gone or disabled' })
  @ApiIdParam('The delivery id (msg_…)')
  redeliver(@Auth() auth: AuthContext, @Param('id') id: string) {
    return this.deliveries.redeliver(auth, id);
  }
}
