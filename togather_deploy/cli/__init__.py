"""The operator command ``togather-deploy VERB`` (``scripts/<verb>`` wrap it).

Adding a verb is one row and one module:

1. a row in ``togather_deploy.cli.main.VERBS``: ``Verb(name, module, help, example)`` — the
   one-line help and the example appear in ``togather-deploy --help`` and the verb's ``--help``;
2. ``togather_deploy/cli/<module>.py`` with
   - ``add_arguments(parser)``: its arguments, one ``help=`` line each; stack verbs use
     ``args.add_stack`` (``STACK``) and ``args.add_output`` (``--json``, ``--cwd``);
   - ``run(namespace, ctx=None)``: build the context (``args.context``) and call a function
     with explicit inputs that returns a frozen result dataclass;
   - ``main(argv, ctx=None) -> int``: parse (``main.parser_for(name)``, or the module's own
     ``build_parser`` when it has sub-verbs), ``run``, render the result (``print_json`` or a
     human renderer; ``refuse`` for a ``DeployError`` before any change) and return an
     ``errors.ExitCode``. ``togather-deploy VERB ARGV`` calls ``main(ARGV)``; tests pass a
     context;
3. optionally ``scripts/<verb>``: the one line
   ``exec "$(dirname "${BASH_SOURCE[0]}")/togather-deploy" <verb> "$@"``.

Release verbs (``deploy``, ``rollback``) share ``cli.release`` and talk to the engine through
``ops.engine.Engine`` (the Automation API, ``ops.automation``), with live progress
(``cli.progress``). Nothing here imports ``components``; ``pulumi`` only through
``ops.automation``, when a verb first uses the engine.
"""
