// The small programs that the node mode's images run: pause (pod sandbox), webapp and mysql
// (the triton app of the seed). Standard library only. Built by ../../build-node.sh.
module netdoctor.test/apps

go 1.26.0
