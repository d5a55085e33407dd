"""The live classroom: teams play one simulated market from their own browsers while the room watches (issue 11).

`create_app(settings)` (classroom.app) builds the ASGI app; `loyalty-lab classroom` serves it with uvicorn.
Modules, one concern each: settings (where data lives, secrets, limits), storage (the database and its
transactions), auth (who is asking), api (the JSON routes), rounds (playing a round in a worker), pages (HTML).
"""
