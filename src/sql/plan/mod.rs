//! Planning: statements to `Plan`s, SELECT to MIR.
