"""The web faces of the library: the editors' studio (studio.py). Like the CLI, they decide
nothing themselves: every read and every edit goes through the workspace and the stages, and
every change to an issue through the issue-file writer."""
