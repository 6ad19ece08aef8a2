// The fleet model's writes as activities. A refusal (unknown cluster, bounds) is final, so it is a
// non-retryable failure whose type is the model's error code.
import { ApplicationFailure } from '@temporalio/common';
import { USER_DATA_WITHHELD } from '../../workflows/nodes.shared.ts';
import { FleetModelError, type FleetModel } from '../../db/nodes.ts';

function refusalsAreFinal<Args extends unknown[], Result>(work: (...args: Args) => Promise<Result>) {
  return async (...args: Args): Promise<Result> => {
    try {
      return await work(...args);
    } catch (error) {
      if (error instanceof FleetModelError) throw ApplicationFailure.nonRetryable(error.message, error.code);
      throw error;
    }
  };
}

export function createFleetRecordActivities(model: FleetModel) {
  return {
    // User data may hold secrets: the reservation (an activity result, so history) only says it exists.
    reserveNode: refusalsAreFinal(async (request: Parameters<FleetModel['reserveNode']>[0]) => {
      const reservation = await model.reserveNode(request);
      return { ...reservation, ec2Profile: { ...reservation.ec2Profile, userData: reservation.ec2Profile.userData ? USER_DATA_WITHHELD : null } };
    }),
    recordInstance: refusalsAreFinal(model.recordInstance),
    recordHostKey: refusalsAreFinal(model.recordHostKey),
    setNodeState: refusalsAreFinal(model.setNodeState),
    releaseReservation: refusalsAreFinal(model.releaseReservation),
    beginRemoval: refusalsAreFinal(model.beginRemoval),
    deleteNode: refusalsAreFinal(model.deleteNode),
    activeNodeTargets: refusalsAreFinal(model.activeNodeTargets),
  };
}
