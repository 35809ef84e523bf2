"""Platform integrations: each turns its events into a `ScanContext` and carries out the plan.

Adding a platform, in three steps:
1. `translate`: the platform's message (and edits, forwards, reports) to a `ScanContext`;
2. `enforce`: carry out a `Plan` with the platform's calls, treating "already gone" as success
   and never acting on a replayed event (`Handled.first_time` is False);
3. a client and thin listeners that call `Moderator.handle` and then the two steps above, with
   every dependency built once in `shield run` and passed in.
"""
