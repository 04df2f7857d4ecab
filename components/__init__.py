"""togather-deploy: the library behind the Pulumi program and the operator scripts.

One module per component and per dynamic-provider family. Nothing here has an
import-time side effect: no clients, no files, no network until a function runs.
"""
