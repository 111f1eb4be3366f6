"""Influence: whose posts travel. `tracker` keeps the window's engagement received per user, as
each event credits it (`credits`); `scoring` ranks the active users (the score's formula and
weights), `pagerank` runs on the retweet graph, `reports` makes the records, `export` the graph
for Gephi; `config` holds the parameters.
"""
