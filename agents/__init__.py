"""The Faust application: topics, agents, tables, web views, exporters and the command line."""
