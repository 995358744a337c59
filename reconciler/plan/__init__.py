"""Planning: the pure diff, safety and pre-flight, plan files and renderers."""
