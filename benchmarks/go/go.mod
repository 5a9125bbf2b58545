module weftnet

go 1.19
