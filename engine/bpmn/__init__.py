"""The SpiffWorkflow adapter: everything that configures, patches or reaches into the library.

- patches:        changes to the library's own code, applied by `patches.apply()`
                  (version-checked) at every edge before the engine runs
- parser:         the Camunda-flavoured parser with Tovholder's extensions
- service_task:   service tasks that wait for a topic's worker
- serializer:     workflow state <-> JSON, spec stored once per version
- spec_cache:     each version's spec restored once per process and shared by its workflows
- script_engine:  the script engine and environment SpiffWorkflow calls, handing every
                  script and expression to engine.script_dispatch; timer values checked
- interrupt:      interrupting event subprocesses
- messages:       what a thrown message carries; catching one from outside
- workflow_tasks: reading tasks, elements and waits of an in-memory workflow
- juel:           Camunda 7's expression language (the subset diagrams use) translated to sandboxed Python
- camunda7:       what a Camunda 7 diagram's attributes mean: expressions by place, forms, units
- camunda7_checks: every camunda: attribute and extension honoured, or refused by name
- camunda7_specs: input/output parameters, call-activity mappings and user-task attributes at run time

Nothing here touches the database. docs/architecture.md lists every workaround.
"""
