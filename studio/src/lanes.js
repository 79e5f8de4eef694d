/**
 * Keeps a subprocess that has lanes of its own out of the lanes around it.
 *
 * bpmn-js reassigns every flow node of a process to the lanes by geometry whenever a lane is
 * added, moved or resized (the `lane.updateRefs` command). A collapsed subprocess drawn
 * below the lanes (kontanthjælp's event subprocess "Fravær og sanktion", whose steps have
 * their own jobcenter and Ydelsesservice lanes) would land in an outer lane, and the engine
 * gives a subprocess's steps the lane the subprocess sits in (docs/modelling.md, section 1):
 * its Ydelsesservice steps would move to the jobcenter's inbox without anyone drawing that.
 * So the command leaves such subprocesses where they were.
 */
import CommandInterceptor from 'diagram-js/lib/command/CommandInterceptor';

function hasOwnLanes(flowNode) {
  return flowNode.$type === 'bpmn:SubProcess'
    && (flowNode.laneSets || []).some((set) => (set.lanes || []).length > 0);
}

export default class KeepSubprocessLanes extends CommandInterceptor {
  constructor(eventBus, commandStack) {
    super(eventBus);
    this.preExecute('lane.updateRefs', (event) => {
      const { context } = event;
      if (context.updates) return;  // a redo: the updates computed the first time are replayed
      const handler = commandStack._getHandler('lane.updateRefs');
      context.updates = handler._computeUpdates(context.flowNodeShapes, context.laneShapes)
        .filter((update) => !hasOwnLanes(update.flowNode));
    });
  }
}
KeepSubprocessLanes.$inject = ['eventBus', 'commandStack'];

export const KeepSubprocessLanesModule = {
  __init__: ['keepSubprocessLanes'],
  keepSubprocessLanes: ['type', KeepSubprocessLanes],
};
