"""The stack config: parsed and validated once into a frozen `DeployConfig`. Pure: no process, no network.
"""
