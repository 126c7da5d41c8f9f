"""gym-pdb as a service: an OpenEnv server, MCP tools, and remote envs.

- ``gym-pdb serve`` (:mod:`gym_pdb.serve.app`): gym-pdb episodes behind
  OpenEnv's server, one sandbox per WebSocket session, the tools also over MCP.
- ``gym-pdb mcp`` (:mod:`gym_pdb.serve.project`): the tools on a project folder
  in place, over MCP on stdio, for a coding assistant.
- ``gym.make(ID, remote=URL)`` (:mod:`gym_pdb.serve.remote`): an env whose
  episodes run on such a server, with the local env's API and spaces.

Needs the ``serve`` extra (``pip install 'gym-pdb[serve]'``).
"""
